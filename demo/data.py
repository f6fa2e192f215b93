"""The demo organisation that ``manage.py seed_demo`` builds: people, teams, catalog and AI features.

Plain data only; the command applies it through the registry services. Evaluations are tuples
``(kind, suite, metric, score, threshold, days_ago, extras)`` where ``extras`` may name a region,
a language, ``higher_is_better`` or notes; ``days_ago`` counts working days before the seeding day (the
suite runs that night and the engineer records it in the morning). A version's ``datasets`` are
``(name, version, usage)``. When things happened is in ``FEATURE_TIMELINE`` and ``SETUP``.
"""

# --- People and teams ------------------------------------------------------------------------

# username, first name, last name, roles. The first seven are named after their role.
USERS = [
    ("product", "Priya", "Natarajan", ["product"]),
    ("ml", "Marco", "Rossi", ["ml"]),
    ("security", "Sofia", "Lindqvist", ["security"]),
    ("legal", "Hannah", "Becker", ["legal"]),
    ("support", "Tomás", "Silva", ["support"]),
    ("governance", "Grace", "Mwangi", ["governance"]),
    ("auditor", "Aiko", "Tanaka", ["auditor"]),
    ("outsider", "Oliver", "Grant", []),
    ("security2", "Daniel", "Okafor", ["security"]),
    ("ml2", "Wei", "Chen", ["ml"]),
    ("ml3", "Jonas", "Berg", ["ml"]),
    ("product2", "Ravi", "Menon", ["product"]),
    ("product3", "Elena", "Petrova", ["product"]),
    ("product4", "Amara", "Diallo", ["product"]),
]

# The owner registers the team's features; the engineer authors its versions and records evidence.
TEAMS = [
    {
        "slug": "claims",
        "name": "Claims",
        "owner": "product",
        "engineer": "ml",
        "members": ["product", "ml"],
        "description": "First notice of loss, triage and claim correspondence.",
    },
    {
        "slug": "payments-risk",
        "name": "Payments & Risk",
        "owner": "product2",
        "engineer": "ml2",
        "members": ["product2", "ml2"],
        "description": "Fraud, KYC and underwriting decisions.",
    },
    {
        "slug": "customer-care",
        "name": "Customer Care",
        "owner": "product4",
        "engineer": "ml",
        "members": ["product4", "product", "ml"],
        "description": "Chat, phone and email support for customers.",
    },
    {
        "slug": "developer-platform",
        "name": "Developer Platform",
        "owner": "product3",
        "engineer": "ml3",
        "members": ["product3", "ml3"],
        "description": "Internal tools: code, search and employee assistants.",
    },
]

# --- Catalog -----------------------------------------------------------------------------------

VENDORS = [
    {
        "slug": "anthropic",
        "name": "Anthropic",
        "status": "approved",
        "website": "https://www.anthropic.com",
        "notes": "DPA signed; EU processing via the EU endpoint.",
    },
    {
        "slug": "openai",
        "name": "OpenAI",
        "status": "approved",
        "website": "https://openai.com",
        "notes": "Enterprise agreement; zero data retention enabled.",
    },
    {
        "slug": "mistral",
        "name": "Mistral AI",
        "status": "under_review",
        "website": "https://mistral.ai",
        "notes": "Security questionnaire returned; legal review of the DPA pending.",
    },
    {"slug": "cohere", "name": "Cohere", "status": "approved", "website": "https://cohere.com"},
    {
        "slug": "in-house",
        "name": "In-house ML Platform",
        "status": "approved",
        "notes": "Models trained and served by the ML platform team on our own clusters.",
    },
]

# ``deprecated_in_days``: the deprecation date is that many days after the day the model is catalogued.
MODELS = [
    {
        "vendor": "anthropic",
        "identifier": "claude-sonnet-4",
        "display_name": "Claude Sonnet 4",
        "regions": ["eu", "uk", "us", "apac", "jp"],
        "context_window": 200_000,
        "modality": "multimodal",
    },
    {
        "vendor": "anthropic",
        "identifier": "claude-3-5-haiku",
        "display_name": "Claude 3.5 Haiku",
        "regions": ["eu", "uk", "us"],
        "context_window": 200_000,
    },
    {
        "vendor": "anthropic",
        "identifier": "claude-3-haiku",
        "display_name": "Claude 3 Haiku",
        "regions": ["eu", "us"],
        "context_window": 200_000,
        "status": "deprecated",
        "deprecated_in_days": 60,
        "notes": "The vendor retires this model; move to claude-3-5-haiku.",
    },
    {
        "vendor": "openai",
        "identifier": "gpt-4o",
        "display_name": "GPT-4o",
        "regions": ["us", "eu", "ca"],
        "context_window": 128_000,
        "modality": "multimodal",
    },
    {
        "vendor": "openai",
        "identifier": "gpt-4o-mini",
        "display_name": "GPT-4o mini",
        "regions": ["us", "eu"],
        "context_window": 128_000,
    },
    {
        "vendor": "openai",
        "identifier": "gpt-4-turbo",
        "display_name": "GPT-4 Turbo",
        "regions": ["us"],
        "context_window": 128_000,
        "status": "suspended",
        "notes": "Suspended: US-only hosting breaks residency for EU personal data; no new pins.",
    },
    {
        "vendor": "openai",
        "identifier": "text-embedding-3-large",
        "display_name": "Embedding 3 large",
        "regions": ["us", "eu"],
        "context_window": 8_191,
        "modality": "embedding",
    },
    {
        "vendor": "mistral",
        "identifier": "mistral-large-2",
        "display_name": "Mistral Large 2",
        "regions": ["eu"],
        "context_window": 128_000,
    },
    {
        "vendor": "cohere",
        "identifier": "rerank-v3.5",
        "display_name": "Rerank 3.5",
        "regions": ["eu", "us", "apac", "jp"],
        "context_window": 4_096,
    },
    {
        "vendor": "in-house",
        "identifier": "risk-llm-8b",
        "display_name": "Risk LLM 8B (fine-tuned)",
        "regions": ["eu", "uk"],
        "context_window": 32_768,
    },
    {
        "vendor": "in-house",
        "identifier": "doc-vision-kyc",
        "display_name": "KYC document vision",
        "regions": ["eu", "uk"],
        "context_window": 8_192,
        "modality": "multimodal",
    },
    {
        "vendor": "in-house",
        "identifier": "whisper-large-v3-internal",
        "display_name": "Whisper large v3 (self-hosted)",
        "regions": ["eu", "uk", "us"],
        "context_window": 448,
        "modality": "speech",
    },
]

# name -> (author, [template of version 1, version 2, ...])
PROMPTS = {
    "support-chat-system": (
        "ml",
        [
            "You are the customer support assistant of Northwind Insurance.\n"
            "Answer only from the knowledge-base passages below. If they do not answer the question, say so "
            "and offer a hand-over to a human agent.\n\nPassages:\n{{passages}}\n\nCustomer: {{message}}",
            "You are the customer support assistant of Northwind Insurance. Be brief and friendly.\n"
            "Answer only from the passages below and cite the article id in brackets, e.g. [KB-1042].\n"
            "Never give legal, medical or financial advice. Never ask for card numbers or passwords.\n"
            "If unsure, offer a hand-over to a human agent.\n\nPassages:\n{{passages}}\n\nCustomer: {{message}}",
            "You are the customer support assistant of Northwind Insurance. Be brief and friendly, and reply "
            "in the customer's language ({{locale}}).\nAnswer only from the passages below and cite article ids.\n"
            "You may look up the customer's policy with crm.lookup after they confirm their identity.\n"
            "Never give legal, medical or financial advice. Offer a human agent when unsure or when asked.\n\n"
            "Passages:\n{{passages}}\n\nCustomer: {{message}}",
        ],
    ),
    "claims-triage": (
        "ml",
        [
            "Classify the claim below into one of: motor, property, travel, liability, other.\n"
            "Then rate complexity as simple, standard or complex.\nClaim:\n{{claim_text}}",
            "You triage first notice of loss reports for an insurance claims team.\n"
            "Return JSON with keys line_of_business, complexity (simple|standard|complex), "
            "urgency (1-4) and reasons (list of short strings).\nDo not decide coverage.\nClaim:\n{{claim_text}}",
            "You triage first notice of loss reports for an insurance claims team.\n"
            "Return JSON with keys line_of_business, complexity, urgency (1-4), vulnerable_customer (bool) "
            "and reasons.\nFlag a vulnerable customer when the report mentions bereavement, illness or "
            "financial hardship.\nDo not decide coverage or liability.\nClaim:\n{{claim_text}}",
        ],
    ),
    "fraud-narrative": (
        "ml2",
        [
            "Given the transaction features and the merchant history, score the fraud likelihood 0-1 and "
            "list the three strongest signals.\n{{features_json}}",
            "You assist fraud analysts. Given the transaction features, device signals and merchant history, "
            "return JSON {score: 0-1, signals: [...], explanation: one sentence}.\n"
            "Do not use nationality, ethnicity or postcode as signals.\n{{features_json}}",
        ],
    ),
    "kyc-document-check": (
        "ml2",
        [
            "Extract name, date of birth, document number and expiry from the identity document image. "
            "Report whether the MRZ checksum is valid.",
            "Extract name, date of birth, document number and expiry from the identity document image.\n"
            "Report MRZ checksum validity, signs of tampering (font mismatch, edited fields) and image quality.\n"
            "Return JSON. Never guess a field you cannot read: return null and say why.",
        ],
    ),
    "underwriting-assistant": (
        "ml2",
        [
            "Summarise the applicant's submitted documents for the underwriter: income, existing cover, "
            "declared conditions. Quote the source page for every figure.\n{{documents}}",
            "Summarise the applicant's documents for the underwriter: income, existing cover, declared "
            "conditions, inconsistencies between documents.\nQuote the source page for every figure. "
            "Do not recommend accept or decline; the underwriter decides.\n{{documents}}",
        ],
    ),
    "contract-summary": (
        "ml3",
        [
            "Summarise this supplier contract for procurement: parties, term, renewal, termination notice, "
            "liability cap, data-processing clauses.\n{{contract_text}}",
            "Summarise this supplier contract for procurement in a table: parties, term, auto-renewal, "
            "termination notice, liability cap, governing law, data-processing and sub-processor clauses.\n"
            "Quote clause numbers. Mark anything unusual compared with our standard terms.\n{{contract_text}}",
        ],
    ),
    "code-assist-system": (
        "ml3",
        [
            "You are a coding assistant for Northwind engineers. Prefer the internal libraries shown in "
            "the context. Do not output secrets.\nContext:\n{{snippets}}\n\nTask: {{task}}",
            "You are a coding assistant for Northwind engineers. Prefer the internal libraries in the context "
            "and follow the repository's style.\nDo not output secrets or credentials. Explain risky "
            "changes (migrations, auth, payments) before the code.\nContext:\n{{snippets}}\n\nTask: {{task}}",
        ],
    ),
    "hr-policy-qa": (
        "ml3",
        [
            "Answer the employee's question from the HR handbook passages below. Cite the section. "
            "If the handbook does not say, refer them to hr@example.com.\n{{passages}}\n\nQuestion: {{question}}",
            "Answer the employee's question from the current HR handbook passages below (effective date "
            "{{handbook_date}}). Cite the section and its effective date.\nFor questions about a specific "
            "person's case, refer them to their HR partner.\n{{passages}}\n\nQuestion: {{question}}",
        ],
    ),
    "call-summary": (
        "ml",
        [
            "Summarise the support call transcript: reason for call, actions taken, follow-ups promised.\n"
            "{{transcript}}",
            "Summarise the support call transcript for the CRM: reason for call, actions taken, follow-ups "
            "with owner and due date, customer sentiment (positive|neutral|negative).\nRedact card numbers "
            "and health details.\n{{transcript}}",
        ],
    ),
    "claim-letter-translation": (
        "ml",
        [
            "Translate the claim letter into {{target_language}}. Keep amounts, dates and policy numbers "
            "unchanged.\n{{letter}}",
            "Translate the claim letter into {{target_language}} for the customer. Keep amounts, dates, "
            "policy and claim numbers unchanged. Use the glossary for insurance terms.\nGlossary:\n{{glossary}}"
            "\n\nLetter:\n{{letter}}",
        ],
    ),
    "marketing-copy": (
        "ml",
        [
            "Draft three variants of marketing copy for {{product}} aimed at {{audience}}. Follow the brand "
            "voice guide. No claims about prices or cover that are not in the brief.\nBrief:\n{{brief}}",
        ],
    ),
    "search-rerank-query": (
        "ml3",
        [
            "Rewrite the employee's search query for the intranet index: expand acronyms from the glossary, "
            "keep it under 20 words.\nQuery: {{query}}",
        ],
    ),
}

_EU_SAFETY = [
    "No training on our inputs or outputs",
    "Personal data redacted before logging",
    "Human review for decisions with legal or similarly significant effect",
]
POLICY_PACKS = {
    "eu-strict": [
        {
            "regions": ["eu"],
            "description": "GDPR processing inside the EU only.",
            "safety": _EU_SAFETY[:2],
            "tools": [{"tool": "kb.search", "authorisation": "service-account, read-only"}],
            "classifications": ["public", "internal", "confidential", "personal"],
        },
        {
            "regions": ["eu", "uk"],
            "description": "EU and UK (adequacy decision) processing.",
            "safety": _EU_SAFETY,
            "tools": [
                {"tool": "kb.search", "authorisation": "service-account, read-only"},
                {"tool": "crm.lookup", "authorisation": "user-delegated, after identity check"},
            ],
            "classifications": ["public", "internal", "confidential", "personal"],
        },
        {
            "regions": ["eu", "uk"],
            "description": "Adds special-category data under a signed DPIA.",
            "safety": [*_EU_SAFETY, "DPIA on file for special-category data", "Prompt-injection filter on inputs"],
            "tools": [
                {"tool": "kb.search", "authorisation": "service-account, read-only"},
                {"tool": "crm.lookup", "authorisation": "user-delegated, after identity check"},
                {"tool": "claims.read", "authorisation": "service-account, scoped to the open claim"},
            ],
            "classifications": ["public", "internal", "confidential", "personal", "special"],
        },
    ],
    "global-standard": [
        {
            "regions": ["eu", "uk", "us", "ca", "apac", "jp"],
            "description": "Internal and public data, any region.",
            "safety": ["No secrets in prompts", "Output filtered for toxicity"],
            "tools": [],
            "classifications": ["public", "internal"],
        },
        {
            "regions": ["eu", "uk", "us", "ca", "apac", "jp"],
            "description": "Adds confidential data and code search.",
            "safety": ["No secrets in prompts", "Output filtered for toxicity", "Licence filter on generated code"],
            "tools": [
                {"tool": "code.search", "authorisation": "user-delegated, repository ACLs"},
                {"tool": "intranet.search", "authorisation": "user-delegated"},
            ],
            "classifications": ["public", "internal", "confidential"],
        },
    ],
    "us-hipaa": [
        {
            "regions": ["us"],
            "description": "US health claims data under a business associate agreement.",
            "safety": ["BAA in place with the vendor", "Minimum necessary PHI", "Audit log of every access"],
            "tools": [{"tool": "claims.read", "authorisation": "service-account, scoped to the open claim"}],
            "classifications": ["internal", "confidential", "personal", "special"],
        },
    ],
}

# name, version, owner team, classification, uri, description. Created by the owning team's engineer.
DATASETS = [
    (
        "claims-history",
        "2024-12",
        "claims",
        "personal",
        "s3://nw-claims-data/history/2024-12/",
        "Closed claims with adjuster decisions, pseudonymised.",
    ),
    (
        "claims-triage-gold",
        "v3",
        "claims",
        "personal",
        "s3://nw-claims-data/eval/triage-gold-v3/",
        "1,800 FNOL reports labelled by two senior adjusters.",
    ),
    (
        "claim-letters-parallel",
        "v1",
        "claims",
        "personal",
        "s3://nw-claims-data/translation/parallel-v1/",
        "Claim letters with professional translations (de, fr, es).",
    ),
    (
        "support-kb",
        "2025-05",
        "customer-care",
        "internal",
        "https://kb.internal.example/export/2025-05",
        "Published help-centre articles.",
    ),
    (
        "support-conversations",
        "2025-q1",
        "customer-care",
        "personal",
        "s3://nw-care-data/chats/2025-q1/",
        "Redacted chat transcripts with resolution labels.",
    ),
    (
        "call-transcripts",
        "2025-q1",
        "customer-care",
        "personal",
        "s3://nw-care-data/calls/2025-q1/",
        "Consented call recordings, transcribed and redacted.",
    ),
    (
        "card-transactions-labelled",
        "2024-12",
        "payments-risk",
        "confidential",
        "s3://nw-risk-data/transactions/labelled-2024-12/",
        "Card transactions with chargeback-confirmed labels.",
    ),
    (
        "kyc-id-samples",
        "v2",
        "payments-risk",
        "special",
        "s3://nw-risk-data/kyc/id-samples-v2/",
        "Consented identity documents, including tampered examples from the vendor.",
    ),
    (
        "underwriting-cases",
        "2024",
        "payments-risk",
        "special",
        "s3://nw-risk-data/underwriting/2024/",
        "Life and income protection applications with underwriter notes.",
    ),
    (
        "internal-code",
        "2025-04",
        "developer-platform",
        "confidential",
        "git://code.internal.example/snapshot/2025-04",
        "Snapshot of internal repositories, secrets scrubbed.",
    ),
    (
        "hr-handbook",
        "2025-02",
        "developer-platform",
        "internal",
        "https://hr.internal.example/handbook/2025-02",
        "The employee handbook, effective February 2025.",
    ),
    (
        "supplier-contracts",
        "2024",
        "developer-platform",
        "confidential",
        "s3://nw-procurement/contracts/2024/",
        "Signed supplier contracts (procurement archive).",
    ),
    (
        "intranet-clicklogs",
        "2025-03",
        "developer-platform",
        "internal",
        "s3://nw-platform/search/clicks-2025-03/",
        "Intranet search queries with clicked results.",
    ),
]

# --- AI features ---------------------------------------------------------------------------------

# When each feature was registered and each of its versions created, in working days before the seeding
# day: six to ten weeks ago for the registrations, the versions and their evaluations over the weeks after.
FEATURE_TIMELINE = {
    "claims-triage": (48, [47, 33, 12]),
    "claim-letter-translation": (44, [43, 22, 7]),
    "customer-support-chatbot": (50, [49, 42, 4]),
    "call-summariser": (40, [39, 18]),
    "marketing-copy-helper": (32, [8]),
    "fraud-scoring": (46, [45, 20]),
    "kyc-document-check": (47, [45, 19]),
    "underwriting-assistant": (31, [25, 5]),
    "code-assistant": (42, [41, 20]),
    "contract-summariser": (37, [36, 22]),
    "hr-policy-qa": (36, [35, 9]),
    "search-reranker": (50, [49, 9]),
}

# The organisation before the first feature: (working days ago, HH:MM) for each part of the set-up.
SETUP = {
    "people": (52, "08:30"),
    "teams": (52, "09:10"),
    "catalog": (51, "10:00"),
    "prompts": (51, "11:30"),
    "policy packs": (51, "14:00"),
    "datasets": (51, "15:30"),
}

# Models are "vendor/identifier", prompts and policy packs "name@version", tools {name: scopes}.
# Versions are created in order (each one's parent is the one before); "draft": True leaves it unsubmitted.
FEATURES = [
    {
        "slug": "claims-triage",
        "name": "Claims triage",
        "team": "claims",
        "risk_tier": "high",
        "status": "active",
        "regions": ["eu", "uk"],
        "data_classification": "personal",
        "purpose": "Sorts first notice of loss reports by line of business, complexity and urgency so that "
        "complex and vulnerable-customer claims reach a senior adjuster on the first day.",
        "intended_uses": "Routing new claims to adjuster queues.\nFlagging vulnerable customers for priority contact.",
        "disallowed_uses": "Deciding coverage, liability or settlement amounts.\nDeclining or delaying a claim.",
        "slos": "Triage within 60 s of FNOL for 99% of claims\nRouting agreement with adjusters >= 92% (weekly sample)\n"
        "Vulnerable-customer recall >= 95%",
        "monitors": "https://grafana.internal.example/d/claims-triage\nhttps://alerts.internal.example/rules/claims-triage",
        "operational_fallback": "Claims go to the general intake queue and are triaged by hand (rota in the Claims runbook).",
        "rollback_path": "Roll back the production pointer in Gatehouse to the previous approved version; the router "
        "picks it up within 60 s.",
        "stop_expansion_criteria": "Routing agreement below 90% for two weeks, or any missed vulnerable-customer flag.",
        "versions": [
            {
                "model": "in-house/risk-llm-8b",
                "prompt": "claims-triage@1",
                "policy": "eu-strict@1",
                "datasets": [("claims-history", "2024-12", "training"), ("claims-triage-gold", "v3", "evaluation")],
                "params": {"temperature": 0.0, "max_tokens": 300},
                "summary": "First release: line of business and complexity.",
                "evals": [
                    ("benchmark", "triage-gold-v3", "routing_accuracy", 0.88, 0.9, 45),
                    ("safety", "claims-safety-basic", "refusal_correctness", 0.97, 0.95, 44),
                ],
            },
            {
                "model": "anthropic/claude-sonnet-4",
                "fallbacks": ["in-house/risk-llm-8b"],
                "prompt": "claims-triage@2",
                "policy": "eu-strict@2",
                "tools": {"claims.read": ["read"]},
                "datasets": [("claims-triage-gold", "v3", "evaluation")],
                "params": {"temperature": 0.0, "max_tokens": 500, "response_format": "json"},
                "summary": "Move to Claude Sonnet 4 with JSON output and urgency; in-house model stays as fallback.",
                "evals": [
                    ("benchmark", "triage-gold-v3", "routing_accuracy", 0.93, 0.9, 31),
                    ("privacy_review", "DPIA claims triage", "review_passed", 1, 1, 30),
                    ("bias", "triage-fairness-age-gender", "max_group_gap", 0.96, 0.95, 29),
                ],
            },
            {
                "model": "anthropic/claude-sonnet-4",
                "fallbacks": ["in-house/risk-llm-8b"],
                "prompt": "claims-triage@3",
                "policy": "eu-strict@3",
                "tools": {"claims.read": ["read"]},
                "datasets": [("claims-triage-gold", "v3", "evaluation")],
                "params": {"temperature": 0.0, "max_tokens": 600, "response_format": "json"},
                "summary": "Flag vulnerable customers (Consumer Duty); policy pack 3 allows the health details they mention.",
                "evals": [
                    ("benchmark", "triage-gold-v3", "routing_accuracy", 0.94, 0.9, 11),
                    ("benchmark", "vulnerability-flags", "recall", 0.96, 0.95, 10),
                    ("red_team", "claims-injection-2025", "attack_block_rate", 0.91, 0.9, 9),
                    (
                        "regional_language",
                        "triage-gold-de",
                        "routing_accuracy",
                        0.9,
                        0.88,
                        9,
                        {"region": "eu", "language": "de-DE"},
                    ),
                    ("load_test", "fnol-peak-storm", "latency_p95_ms", 1850, 2500, 8, {"higher_is_better": False}),
                ],
            },
        ],
    },
    {
        "slug": "claim-letter-translation",
        "name": "Claim letter translation",
        "team": "claims",
        "risk_tier": "high",
        "status": "active",
        "regions": ["eu", "uk", "ca"],
        "data_classification": "personal",
        "purpose": "Translates outgoing claim letters so customers read decisions in their own language.",
        "intended_uses": "Drafting translations of claim letters, reviewed by a bilingual handler before sending.",
        "disallowed_uses": "Sending a translation without human review.\nTranslating legal notices or court documents.",
        "slos": "Draft ready within 2 minutes\nReviewer edit rate below 15% of sentences",
        "monitors": "https://grafana.internal.example/d/claim-letter-translation",
        "operational_fallback": "Letters go to the external translation agency (2-day turnaround).",
        "rollback_path": "Roll back in Gatehouse; drafts in progress are regenerated on the next request.",
        "stop_expansion_criteria": "Any mistranslated amount, date or policy number reaching a customer.",
        "versions": [
            {
                "model": "openai/gpt-4o",
                "prompt": "claim-letter-translation@1",
                "policy": "eu-strict@2",
                "datasets": [("claim-letters-parallel", "v1", "evaluation")],
                "params": {"temperature": 0.2},
                "summary": "First release for German and French.",
                "evals": [
                    (
                        "regional_language",
                        "letters-parallel-de",
                        "comet",
                        0.86,
                        0.85,
                        41,
                        {"region": "eu", "language": "de-DE"},
                    ),
                    (
                        "regional_language",
                        "letters-parallel-fr",
                        "comet",
                        0.87,
                        0.85,
                        41,
                        {"region": "eu", "language": "fr-FR"},
                    ),
                ],
            },
            {
                "model": "anthropic/claude-sonnet-4",
                "fallbacks": ["openai/gpt-4o"],
                "prompt": "claim-letter-translation@2",
                "policy": "eu-strict@2",
                "datasets": [("claim-letters-parallel", "v1", "evaluation")],
                "params": {"temperature": 0.1},
                "summary": "Glossary for insurance terms; adds Canadian French and Spanish.",
                "evals": [
                    (
                        "regional_language",
                        "letters-parallel-fr-ca",
                        "comet",
                        0.83,
                        0.85,
                        20,
                        {"region": "ca", "language": "fr-CA", "notes": "Quebec legal terms mistranslated."},
                    ),
                    (
                        "regional_language",
                        "letters-parallel-es",
                        "comet",
                        0.88,
                        0.85,
                        20,
                        {"region": "eu", "language": "es-ES"},
                    ),
                    ("privacy_review", "Translation data flow review", "review_passed", 1, 1, 19),
                ],
            },
            {
                "model": "anthropic/claude-sonnet-4",
                "fallbacks": ["mistral/mistral-large-2"],
                "prompt": "claim-letter-translation@2",
                "policy": "eu-strict@2",
                "params": {"temperature": 0.1},
                "summary": "Try Mistral Large as the EU-hosted fallback (vendor still under review).",
                "draft": True,
                "evals": [],
            },
        ],
    },
    {
        "slug": "customer-support-chatbot",
        "name": "Customer support chatbot",
        "team": "customer-care",
        "risk_tier": "medium",
        "status": "active",
        "regions": ["eu", "uk"],
        "data_classification": "personal",
        "purpose": "Answers customers' policy and claim-status questions in the web and app chat, and hands "
        "over to an agent when it cannot help.",
        "intended_uses": "Answering questions from published help articles.\nLooking up a verified customer's policy.",
        "disallowed_uses": "Changing policies or payments.\nGiving legal, medical or financial advice.\n"
        "Handling complaints (always hand over).",
        "slos": "First token within 1.5 s (p95)\nContainment rate >= 55% without a repeat contact in 7 days\n"
        "Hand-over offered in 100% of complaint conversations",
        "monitors": "https://grafana.internal.example/d/support-chatbot\n"
        "https://alerts.internal.example/rules/support-chatbot\nhttps://status.internal.example/chat",
        "operational_fallback": "The chat widget shows the contact form and live-agent queue.",
        "rollback_path": "Roll back in Gatehouse; the chat service reads the resolve endpoint every 30 s.",
        "stop_expansion_criteria": "Containment below 45% or CSAT below 3.8 for a week.",
        "versions": [
            {
                "model": "openai/gpt-4o-mini",
                "prompt": "support-chat-system@1",
                "policy": "eu-strict@1",
                "index": "support-kb-2025-01",
                "tools": {"kb.search": ["read"]},
                "datasets": [("support-kb", "2025-05", "retrieval")],
                "params": {"temperature": 0.3, "max_tokens": 400},
                "summary": "Pilot: answers from help articles only.",
                "evals": [
                    ("benchmark", "support-qa-500", "answer_correctness", 0.81, 0.8, 48),
                    ("safety", "support-harmful-requests", "refusal_rate", 0.98, 0.97, 47),
                ],
            },
            {
                "model": "anthropic/claude-3-5-haiku",
                "fallbacks": ["openai/gpt-4o-mini"],
                "prompt": "support-chat-system@2",
                "policy": "eu-strict@2",
                "index": "support-kb-2025-05",
                "tools": {"kb.search": ["read"]},
                "datasets": [
                    ("support-kb", "2025-05", "retrieval"),
                    ("support-conversations", "2025-q1", "evaluation"),
                ],
                "params": {"temperature": 0.2, "max_tokens": 400},
                "summary": "Citations and stricter refusals; Haiku for latency, GPT-4o mini as fallback.",
                "evals": [
                    ("benchmark", "support-qa-500", "answer_correctness", 0.86, 0.8, 40),
                    ("safety", "support-harmful-requests", "refusal_rate", 0.99, 0.97, 39),
                    (
                        "red_team",
                        "chat-jailbreak-suite",
                        "attack_block_rate",
                        0.87,
                        0.9,
                        38,
                        {"notes": "Role-play jailbreaks got past; fixed in the next prompt."},
                    ),
                    ("load_test", "chat-peak-monday", "latency_p95_ms", 1320, 1500, 37, {"higher_is_better": False}),
                ],
            },
            {
                "model": "anthropic/claude-3-5-haiku",
                "fallbacks": ["openai/gpt-4o-mini"],
                "prompt": "support-chat-system@3",
                "policy": "eu-strict@2",
                "index": "support-kb-2025-05",
                "tools": {"kb.search": ["read"], "crm.lookup": ["read", "policy:summary"]},
                "datasets": [
                    ("support-kb", "2025-05", "retrieval"),
                    ("support-conversations", "2025-q1", "evaluation"),
                ],
                "params": {"temperature": 0.2, "max_tokens": 500},
                "summary": "Policy look-up after identity check; replies in the customer's language.",
                "draft": True,
                "evals": [("red_team", "chat-jailbreak-suite", "attack_block_rate", 0.94, 0.9, 2)],
            },
        ],
    },
    {
        "slug": "call-summariser",
        "name": "Call summariser",
        "team": "customer-care",
        "risk_tier": "medium",
        "status": "active",
        "regions": ["eu", "uk"],
        "data_classification": "personal",
        "purpose": "Writes the CRM note after a support call: reason, actions, follow-ups and sentiment.",
        "intended_uses": "Drafting the call note the agent reviews and saves.",
        "disallowed_uses": "Scoring agent performance.\nStoring health or card details in the note.",
        "slos": "Note ready within 20 s of hang-up (p95)\nAgent edit rate below 25%",
        "monitors": "https://grafana.internal.example/d/call-summariser",
        "operational_fallback": "Agents write the note by hand (wrap-up time +90 s).",
        "rollback_path": "Roll back in Gatehouse; the summariser worker reloads on the next call.",
        "stop_expansion_criteria": "Any note found containing card numbers.",
        "versions": [
            {
                "model": "anthropic/claude-3-haiku",
                "prompt": "call-summary@1",
                "policy": "eu-strict@1",
                "datasets": [("call-transcripts", "2025-q1", "evaluation")],
                "params": {"temperature": 0.2},
                "summary": "First release on transcripts from the self-hosted Whisper.",
                "evals": [("benchmark", "call-notes-200", "rouge_l", 0.41, 0.4, 37)],
            },
            {
                "model": "anthropic/claude-3-haiku",
                "fallbacks": ["anthropic/claude-3-5-haiku"],
                "prompt": "call-summary@2",
                "policy": "eu-strict@2",
                "datasets": [("call-transcripts", "2025-q1", "evaluation")],
                "params": {"temperature": 0.1},
                "summary": "Redaction of card and health details; follow-ups with owner and due date.",
                "evals": [
                    ("benchmark", "call-notes-200", "rouge_l", 0.45, 0.4, 16),
                    ("privacy_review", "Call note redaction review", "review_passed", 1, 1, 15),
                    (
                        "safety",
                        "redaction-leak-test",
                        "leak_free_rate",
                        0.995,
                        0.999,
                        14,
                        {"notes": "2 of 400 notes kept the last four card digits."},
                    ),
                ],
            },
        ],
    },
    {
        "slug": "marketing-copy-helper",
        "name": "Marketing copy helper",
        "team": "customer-care",
        "risk_tier": "low",
        "status": "proposed",
        "regions": ["eu", "uk", "us"],
        "data_classification": "public",
        "purpose": "Drafts campaign copy variants from a brief for the marketing team to edit.",
        "intended_uses": "First drafts of emails, banners and social posts.",
        "disallowed_uses": "Publishing without review.\nUsing customer data for targeting.",
        "slos": "Draft within 30 s",
        "monitors": "https://grafana.internal.example/d/marketing-copy",
        "operational_fallback": "Copywriters work from the brief alone.",
        "rollback_path": "Roll back in Gatehouse.",
        "versions": [
            {
                "model": "openai/gpt-4o",
                "prompt": "marketing-copy@1",
                "policy": "global-standard@1",
                "params": {"temperature": 0.8, "n": 3},
                "summary": "Proposal: three variants per brief.",
                "draft": True,
                "evals": [("safety", "brand-safety-checks", "pass_rate", 0.99, 0.98, 6)],
            },
        ],
    },
    {
        "slug": "fraud-scoring",
        "name": "Fraud scoring",
        "team": "payments-risk",
        "risk_tier": "high",
        "status": "active",
        "restricted": True,
        "regions": ["eu", "uk"],
        "data_classification": "confidential",
        "purpose": "Scores card-not-present transactions for fraud and explains the strongest signals to analysts.",
        "intended_uses": "Prioritising the analyst review queue.\nExplaining a score to the analyst.",
        "disallowed_uses": "Blocking a customer's card without analyst review.\nUsing protected characteristics.",
        "slos": "Score within 150 ms (p99)\nPrecision at the review threshold >= 0.6\nFalse-positive rate <= 1.5%",
        "monitors": "https://grafana.internal.example/d/fraud-scoring\nhttps://alerts.internal.example/rules/fraud-scoring",
        "operational_fallback": "The rules engine alone decides the review queue (higher false positives).",
        "rollback_path": "Roll back in Gatehouse; the scoring service drains in-flight requests first.",
        "stop_expansion_criteria": "False-positive rate above 2% for 3 days, or a bias gap above 5 points.",
        "escalation_path": "1. Fraud on-call (PagerDuty: fraud-scoring)\n2. Wei Chen, ML engineer\n"
        "3. Ravi Menon, product owner\n4. Head of Financial Crime (MLRO)",
        "versions": [
            {
                "model": "in-house/risk-llm-8b",
                "prompt": "fraud-narrative@1",
                "policy": "eu-strict@2",
                "datasets": [("card-transactions-labelled", "2024-12", "training")],
                "params": {"temperature": 0.0},
                "summary": "Scores plus narrative from the fine-tuned risk model.",
                "evals": [
                    ("benchmark", "fraud-holdout-2024q4", "auc", 0.91, 0.9, 43),
                    (
                        "bias",
                        "fraud-fairness",
                        "max_group_gap",
                        0.93,
                        0.95,
                        42,
                        {"notes": "Gap on customers over 75; postcode leaked as a proxy."},
                    ),
                ],
            },
            {
                "model": "in-house/risk-llm-8b",
                "prompt": "fraud-narrative@2",
                "policy": "eu-strict@2",
                "datasets": [
                    ("card-transactions-labelled", "2024-12", "training"),
                    ("card-transactions-labelled", "2024-12", "evaluation"),
                ],
                "params": {"temperature": 0.0, "response_format": "json"},
                "summary": "Removes postcode and nationality signals after the bias finding; JSON output.",
                "evals": [
                    ("benchmark", "fraud-holdout-2024q4", "auc", 0.92, 0.9, 18),
                    ("bias", "fraud-fairness", "max_group_gap", 0.97, 0.95, 17),
                    ("load_test", "fraud-black-friday", "latency_p95_ms", 118, 150, 16, {"higher_is_better": False}),
                ],
            },
        ],
    },
    {
        "slug": "kyc-document-check",
        "name": "KYC document check",
        "team": "payments-risk",
        "risk_tier": "regulated",
        "status": "active",
        "restricted": True,
        "regions": ["eu", "uk"],
        "data_classification": "special",
        "purpose": "Reads identity documents at onboarding, checks the MRZ and flags signs of tampering.",
        "intended_uses": "Pre-filling onboarding fields.\nFlagging documents for a compliance analyst.",
        "disallowed_uses": "Rejecting an applicant without a human decision.\nFace matching or biometric identification.",
        "slos": "Result within 5 s (p95)\nTamper recall >= 97%\nField extraction accuracy >= 98%",
        "monitors": "https://grafana.internal.example/d/kyc-document-check\nhttps://alerts.internal.example/rules/kyc",
        "operational_fallback": "All documents go to the manual KYC queue (SLA 4 hours).",
        "rollback_path": "Roll back in Gatehouse; the onboarding service retries pending checks on the restored version.",
        "stop_expansion_criteria": "Tamper recall below 95% on the monthly sample, or a regulator query.",
        "escalation_path": "1. KYC on-call\n2. Wei Chen, ML engineer\n3. Ravi Menon, product owner\n4. MLRO",
        "versions": [
            {
                "model": "in-house/doc-vision-kyc",
                "prompt": "kyc-document-check@1",
                "policy": "eu-strict@3",
                "datasets": [("kyc-id-samples", "v2", "training")],
                "params": {"temperature": 0.0},
                "summary": "Field extraction and MRZ check.",
                "evals": [("benchmark", "kyc-fields-v2", "field_accuracy", 0.985, 0.98, 43)],
            },
            {
                "model": "in-house/doc-vision-kyc",
                "fallbacks": ["anthropic/claude-sonnet-4"],
                "prompt": "kyc-document-check@2",
                "policy": "eu-strict@3",
                "datasets": [("kyc-id-samples", "v2", "training"), ("kyc-id-samples", "v2", "evaluation")],
                "params": {"temperature": 0.0, "response_format": "json"},
                "summary": "Tamper detection and null-not-guess for unreadable fields.",
                "evals": [
                    ("benchmark", "kyc-tamper-v2", "recall", 0.975, 0.97, 15),
                    ("red_team", "kyc-forgery-2025", "detection_rate", 0.93, 0.9, 14),
                    ("privacy_review", "KYC DPIA (special category)", "review_passed", 1, 1, 13),
                    ("bias", "kyc-document-origin", "max_group_gap", 0.96, 0.95, 12),
                    (
                        "regional_language",
                        "kyc-uk-documents",
                        "field_accuracy",
                        0.99,
                        0.98,
                        11,
                        {"region": "uk", "language": "en-GB"},
                    ),
                ],
            },
        ],
    },
    {
        "slug": "underwriting-assistant",
        "name": "Underwriting assistant",
        "team": "payments-risk",
        "risk_tier": "regulated",
        "status": "proposed",
        "regions": ["uk"],
        "data_classification": "special",
        "purpose": "Summarises an applicant's documents for the underwriter, with page references for every figure.",
        "intended_uses": "Preparing the underwriter's case summary.",
        "disallowed_uses": "Recommending accept or decline.\nPricing.",
        "slos": "Summary within 60 s of the last document",
        # Deliberately incomplete: no monitors, no rollback path, so readiness shows the gaps.
        "operational_fallback": "Underwriters read the documents directly.",
        "versions": [
            {
                "model": "anthropic/claude-sonnet-4",
                "prompt": "underwriting-assistant@1",
                "policy": "eu-strict@3",
                "datasets": [("underwriting-cases", "2024", "evaluation")],
                "params": {"temperature": 0.1},
                "summary": "Prototype on the 2024 cases.",
                "evals": [("benchmark", "underwriting-summary-100", "figure_accuracy", 0.95, 0.97, 22)],
            },
            {
                "model": "anthropic/claude-sonnet-4",
                "prompt": "underwriting-assistant@2",
                "policy": "eu-strict@3",
                "datasets": [("underwriting-cases", "2024", "evaluation")],
                "params": {"temperature": 0.0},
                "summary": "Inconsistency check between documents; no recommendation.",
                "draft": True,
                "evals": [],
            },
        ],
    },
    {
        "slug": "code-assistant",
        "name": "Code assistant",
        "team": "developer-platform",
        "risk_tier": "low",
        "status": "active",
        "regions": ["eu", "uk", "us"],
        "data_classification": "confidential",
        "purpose": "Helps engineers write and review code in the IDE, grounded in our internal libraries.",
        "intended_uses": "Code completion, explanations and test drafts for internal repositories.",
        "disallowed_uses": "Committing without review.\nPasting customer data into prompts.",
        "slos": "Completion within 800 ms (p95)\nAcceptance rate >= 25%",
        "monitors": "https://grafana.internal.example/d/code-assistant",
        "operational_fallback": "The IDE plugin disables suggestions; nothing else changes.",
        "rollback_path": "Roll back in Gatehouse; plugins fetch the configuration hourly or on restart.",
        "versions": [
            {
                "model": "openai/gpt-4o",
                "prompt": "code-assist-system@1",
                "policy": "global-standard@2",
                "tools": {"code.search": ["read"]},
                "datasets": [("internal-code", "2025-04", "retrieval")],
                "index": "code-index-2025-04",
                "params": {"temperature": 0.2},
                "summary": "IDE assistant with code search.",
                "evals": [("benchmark", "humaneval-internal", "pass_at_1", 0.71, 0.65, 39)],
            },
            {
                "model": "anthropic/claude-sonnet-4",
                "fallbacks": ["openai/gpt-4o"],
                "prompt": "code-assist-system@2",
                "policy": "global-standard@2",
                "tools": {"code.search": ["read"]},
                "datasets": [("internal-code", "2025-04", "retrieval")],
                "index": "code-index-2025-04",
                "params": {"temperature": 0.2, "max_tokens": 2048},
                "summary": "Sonnet 4 for multi-file edits; warns before auth, payment and migration changes.",
                "evals": [
                    ("benchmark", "humaneval-internal", "pass_at_1", 0.79, 0.65, 17),
                    ("safety", "secret-leak-probe", "leak_free_rate", 1.0, 0.999, 16),
                ],
            },
        ],
    },
    {
        "slug": "contract-summariser",
        "name": "Contract summariser",
        "team": "developer-platform",
        "risk_tier": "medium",
        "status": "active",
        "regions": ["eu", "uk"],
        "data_classification": "confidential",
        "purpose": "Summarises supplier contracts for procurement and marks clauses that differ from our standard terms.",
        "intended_uses": "Preparing procurement's contract review checklist.",
        "disallowed_uses": "Legal advice.\nSigning off a contract without Legal.",
        "slos": "Summary within 2 minutes for contracts up to 80 pages",
        "monitors": "https://grafana.internal.example/d/contract-summariser",
        "operational_fallback": "Procurement uses the manual review checklist.",
        "rollback_path": "Roll back in Gatehouse.",
        "versions": [
            {
                "model": "anthropic/claude-3-haiku",
                "prompt": "contract-summary@1",
                "policy": "eu-strict@2",
                "datasets": [("supplier-contracts", "2024", "evaluation")],
                "params": {"temperature": 0.1},
                "summary": "First release for procurement.",
                "evals": [("benchmark", "contracts-50", "clause_recall", 0.84, 0.85, 34)],
            },
            {
                "model": "anthropic/claude-sonnet-4",
                "fallbacks": ["anthropic/claude-3-5-haiku"],
                "prompt": "contract-summary@2",
                "policy": "eu-strict@2",
                "datasets": [("supplier-contracts", "2024", "evaluation")],
                "params": {"temperature": 0.0},
                "summary": "Table output with clause numbers; moves off the deprecated Claude 3 Haiku.",
                "evals": [
                    ("benchmark", "contracts-50", "clause_recall", 0.91, 0.85, 20),
                    ("privacy_review", "Supplier contract data review", "review_passed", 1, 1, 19),
                ],
            },
        ],
    },
    {
        "slug": "hr-policy-qa",
        "name": "HR policy Q&A",
        "team": "developer-platform",
        "risk_tier": "medium",
        "status": "paused",
        "regions": ["eu", "uk"],
        "data_classification": "internal",
        "purpose": "Answers employees' questions about HR policies from the current handbook.",
        "intended_uses": "General questions about leave, expenses, benefits and travel policies.",
        "disallowed_uses": "Questions about a named person's case.\nPerformance or disciplinary matters.",
        "slos": "Answer within 5 s (p95)\nAnswers cite a handbook section in 100% of cases",
        "monitors": "https://grafana.internal.example/d/hr-policy-qa",
        "operational_fallback": "The intranet page links to the handbook and the HR mailbox.",
        "rollback_path": "Roll back in Gatehouse.",
        "stop_expansion_criteria": "Paused after it quoted the superseded parental-leave policy; resume once v3 passes.",
        "versions": [
            {
                "model": "openai/gpt-4o-mini",
                "prompt": "hr-policy-qa@1",
                "policy": "global-standard@1",
                "index": "hr-handbook-2024-06",
                "tools": {"intranet.search": ["read"]},
                "params": {"temperature": 0.1},
                "summary": "Pilot on the 2024 handbook.",
                "evals": [("benchmark", "hr-questions-120", "answer_correctness", 0.88, 0.85, 33)],
            },
            {
                "model": "openai/gpt-4o-mini",
                "prompt": "hr-policy-qa@2",
                "policy": "global-standard@1",
                "index": "hr-handbook-2025-02",
                "tools": {"intranet.search": ["read"]},
                "datasets": [("hr-handbook", "2025-02", "retrieval")],
                "params": {"temperature": 0.1},
                "summary": "Re-index on the February 2025 handbook and cite effective dates.",
                "evals": [
                    (
                        "benchmark",
                        "hr-questions-120",
                        "answer_correctness",
                        0.79,
                        0.85,
                        7,
                        {"notes": "Stale chunks from the 2024 index still retrieved."},
                    )
                ],
            },
        ],
    },
    {
        "slug": "search-reranker",
        "name": "Intranet search reranker",
        "team": "developer-platform",
        "risk_tier": "low",
        "status": "active",
        "regions": ["eu", "us", "apac", "jp"],
        "data_classification": "internal",
        "purpose": "Reorders intranet search results so the page people need is in the top three.",
        "intended_uses": "Ranking intranet pages, wiki articles and policies.",
        "disallowed_uses": "Ranking people or documents about individuals.",
        "slos": "Reranking within 120 ms (p95)\nnDCG@3 >= 0.7",
        "monitors": "https://grafana.internal.example/d/search-reranker",
        "operational_fallback": "Plain BM25 ranking.",
        "rollback_path": "Roll back in Gatehouse; search nodes reload within a minute.",
        "versions": [
            {
                "model": "cohere/rerank-v3.5",
                "prompt": "search-rerank-query@1",
                "policy": "global-standard@1",
                "index": "intranet-2025-03",
                "datasets": [("intranet-clicklogs", "2025-03", "evaluation")],
                "params": {"top_n": 20},
                "summary": "Rerank the top 20 BM25 hits.",
                "evals": [
                    ("benchmark", "intranet-clicks-2025-03", "ndcg_at_3", 0.74, 0.7, 47),
                    (
                        "regional_language",
                        "intranet-ja",
                        "ndcg_at_3",
                        0.66,
                        0.7,
                        46,
                        {"region": "jp", "language": "ja-JP"},
                    ),
                    ("load_test", "search-peak", "latency_p95_ms", 96, 120, 46, {"higher_is_better": False}),
                ],
            },
            {
                "model": "cohere/rerank-v3.5",
                "prompt": "search-rerank-query@1",
                "policy": "global-standard@2",
                "index": "intranet-2025-06",
                "datasets": [("intranet-clicklogs", "2025-03", "evaluation")],
                "params": {"top_n": 30},
                "summary": "Japanese glossary in the index; rerank the top 30.",
                "evals": [
                    (
                        "regional_language",
                        "intranet-ja",
                        "ndcg_at_3",
                        0.72,
                        0.7,
                        8,
                        {"region": "jp", "language": "ja-JP"},
                    )
                ],
            },
        ],
    },
]
