"""The two management-system catalogues Gatehouse answers to, by their public identifiers.

``ISO_CONTROLS`` lists the control identifiers of ISO/IEC 42001 Annex A (A.2 to A.10) with a topic in
Gatehouse's own words, so a reader knows what each is about without the standard's text. ``NIST_SUBCATEGORIES``
lists the subcategories of the NIST AI RMF core (Govern, Map, Measure, Manage), each with a topic in our words
and the Annex A controls whose evidence also shows it: the crosswalk that lets one set of linked records answer
both. Governance can change a subcategory's mapping; this is where a new installation starts.

Both lists are data, not behaviour: a row holds governance's decision about an entry once there is one
(``compliance.models.standards``).
"""

from __future__ import annotations

from typing import NamedTuple


class Control(NamedTuple):
    id: str
    clause: str
    topic: str


class Subcategory(NamedTuple):
    id: str
    function: str
    topic: str
    controls: tuple[str, ...]


ISO_CLAUSES: dict[str, str] = {
    "A.2": "Policies for AI",
    "A.3": "Internal organisation",
    "A.4": "Resources for AI systems",
    "A.5": "Assessing the impacts of AI systems",
    "A.6": "The AI system life cycle",
    "A.7": "Data for AI systems",
    "A.8": "Information for interested parties",
    "A.9": "Using AI systems",
    "A.10": "Third parties and customers",
}

ISO_CONTROLS: tuple[Control, ...] = (
    Control("A.2.2", "A.2", "A written AI policy the organisation follows"),
    Control("A.2.3", "A.2", "The AI policy fits with the organisation's other policies"),
    Control("A.2.4", "A.2", "The AI policy is reviewed on a schedule and when things change"),
    Control("A.3.2", "A.3", "Who is responsible for what across AI work is defined"),
    Control("A.3.3", "A.3", "People can raise concerns about AI systems and are heard"),
    Control("A.4.2", "A.4", "The resources each AI system relies on are written down"),
    Control("A.4.3", "A.4", "The data each system uses is known and documented"),
    Control("A.4.4", "A.4", "The tools and models used to build it are known"),
    Control("A.4.5", "A.4", "The computing it runs on is known"),
    Control("A.4.6", "A.4", "The people and skills it needs are known"),
    Control("A.5.2", "A.5", "A process to assess what an AI system's use may do to people"),
    Control("A.5.3", "A.5", "Impact assessments are written down and kept"),
    Control("A.5.4", "A.5", "Effects on individuals and groups are assessed"),
    Control("A.5.5", "A.5", "Effects on society are assessed"),
    Control("A.6.1.2", "A.6", "Goals for building AI responsibly are set"),
    Control("A.6.1.3", "A.6", "Design and build follow a responsible process"),
    Control("A.6.2.2", "A.6", "What the system must do is specified"),
    Control("A.6.2.3", "A.6", "Design and build decisions are recorded"),
    Control("A.6.2.4", "A.6", "The system is verified and validated before use"),
    Control("A.6.2.5", "A.6", "Release to use follows a defined, approved path"),
    Control("A.6.2.6", "A.6", "The system is watched and run with care once live"),
    Control("A.6.2.7", "A.6", "Technical documentation is kept for those who need it"),
    Control("A.6.2.8", "A.6", "Events are logged so what happened can be traced"),
    Control("A.7.2", "A.7", "Data used to build and improve the system is managed"),
    Control("A.7.3", "A.7", "How data is obtained is recorded"),
    Control("A.7.4", "A.7", "Data quality is defined and checked"),
    Control("A.7.5", "A.7", "Where data came from can be traced"),
    Control("A.7.6", "A.7", "How data is prepared is recorded"),
    Control("A.8.2", "A.8", "Users get the documentation and information they need"),
    Control("A.8.3", "A.8", "Outside parties can report problems"),
    Control("A.8.4", "A.8", "Incidents are communicated to those who must know"),
    Control("A.8.5", "A.8", "Interested parties get the information they are owed"),
    Control("A.9.2", "A.9", "A process for using AI systems responsibly"),
    Control("A.9.3", "A.9", "Goals for responsible use are set"),
    Control("A.9.4", "A.9", "Systems are used only as intended"),
    Control("A.10.2", "A.10", "Responsibilities are split clearly with partners"),
    Control("A.10.3", "A.10", "Suppliers are chosen and watched with AI in mind"),
    Control("A.10.4", "A.10", "Customers' needs and expectations are taken into account"),
)

NIST_FUNCTIONS: dict[str, str] = {
    "GOVERN": "A culture and structure for managing AI risk",
    "MAP": "The context each system is used in, and its risks",
    "MEASURE": "Analysing, assessing and tracking the risks",
    "MANAGE": "Acting on the risks, by priority",
}


def _s(id: str, topic: str, *controls: str) -> Subcategory:
    return Subcategory(id, id.split(" ")[0], topic, controls)


NIST_SUBCATEGORIES: tuple[Subcategory, ...] = (
    _s("GOVERN 1.1", "Legal and regulatory duties about AI are known and handled", "A.2.3", "A.5.2"),
    _s("GOVERN 1.2", "Trustworthy-AI traits are built into policies and practice", "A.2.2", "A.6.1.2"),
    _s("GOVERN 1.3", "How much risk management is done follows the risk tolerance", "A.2.2", "A.5.2"),
    _s("GOVERN 1.4", "Risk management is set out in transparent policies and controls", "A.2.2", "A.6.1.3"),
    _s("GOVERN 1.5", "Systems are monitored and reviewed on a plan, with clear roles", "A.6.2.6", "A.2.4"),
    _s("GOVERN 1.6", "An inventory of AI systems is kept, by risk priority", "A.4.2"),
    _s("GOVERN 1.7", "Systems are retired safely, by a set process", "A.6.2.5", "A.6.2.6"),
    _s("GOVERN 2.1", "Roles and lines of communication for AI risk are documented", "A.3.2"),
    _s("GOVERN 2.2", "Staff and partners are trained for their AI risk duties", "A.4.6"),
    _s("GOVERN 2.3", "Leaders take responsibility for AI risk decisions", "A.3.2", "A.2.2"),
    _s("GOVERN 3.1", "Decisions draw on a diverse team", "A.4.6"),
    _s("GOVERN 3.2", "Roles for human oversight of AI systems are defined", "A.3.2", "A.9.2"),
    _s("GOVERN 4.1", "Practices encourage critical thinking and a safety-first mindset", "A.6.1.3"),
    _s("GOVERN 4.2", "Teams document the risks and impacts they consider", "A.5.3", "A.6.2.3"),
    _s("GOVERN 4.3", "Testing, incident finding and information sharing are practised", "A.6.2.4", "A.8.4"),
    _s("GOVERN 5.1", "Feedback from outside the team is gathered and weighed", "A.8.3", "A.10.4"),
    _s("GOVERN 5.2", "Feedback from affected people flows back into design", "A.8.3", "A.3.3"),
    _s("GOVERN 6.1", "Third-party risks, including rights, are addressed", "A.10.3", "A.10.2"),
    _s("GOVERN 6.2", "Plans cover failures of third-party data or systems", "A.10.3", "A.6.2.6"),
    _s("MAP 1.1", "The intended purpose and context of use are understood", "A.9.4", "A.6.2.2"),
    _s("MAP 1.2", "The team brings diverse skills and views to the context", "A.4.6"),
    _s("MAP 1.3", "The organisation's mission for the system is understood", "A.6.1.2"),
    _s("MAP 1.4", "The business value or context of use is defined", "A.6.2.2"),
    _s("MAP 1.5", "The organisation's risk tolerance is set and written down", "A.2.2", "A.5.2"),
    _s("MAP 1.6", "System requirements take account of those affected", "A.6.2.2", "A.10.4"),
    _s("MAP 2.1", "The tasks and methods the system uses are defined", "A.6.2.2", "A.6.2.3"),
    _s("MAP 2.2", "The system's limits and how people should use its output are known", "A.8.2", "A.9.4"),
    _s("MAP 2.3", "Scientific soundness and validity limits are recorded", "A.6.2.4", "A.6.2.3"),
    _s("MAP 3.1", "Possible benefits of the system are examined", "A.5.4"),
    _s("MAP 3.2", "Possible costs, including of errors, are examined", "A.5.4", "A.5.5"),
    _s("MAP 3.3", "The scope of the application is set by its purpose", "A.9.4"),
    _s("MAP 3.4", "Operators' skills and training are assessed", "A.4.6", "A.9.2"),
    _s("MAP 3.5", "Human oversight processes are defined and documented", "A.9.2", "A.3.2"),
    _s("MAP 4.1", "Legal risks of third-party parts, data and models are mapped", "A.10.3", "A.4.4"),
    _s("MAP 4.2", "Internal controls for each component are known", "A.4.2", "A.10.2"),
    _s("MAP 5.1", "Likelihood and size of each impact are recorded", "A.5.3", "A.5.4"),
    _s("MAP 5.2", "Regular engagement with affected people is practised", "A.8.5", "A.3.3"),
    _s("MEASURE 1.1", "Methods and metrics for the main risks are chosen", "A.6.2.4"),
    _s("MEASURE 1.2", "Metrics and controls are reviewed for fitness", "A.6.2.4", "A.2.4"),
    _s("MEASURE 1.3", "Independent assessors take part in reviews", "A.6.2.4", "A.3.2"),
    _s("MEASURE 2.1", "Test sets, metrics and tools are documented", "A.6.2.4", "A.4.4"),
    _s("MEASURE 2.2", "Evaluations with people follow protection rules", "A.6.2.4", "A.7.2"),
    _s("MEASURE 2.3", "Performance is measured in conditions like deployment", "A.6.2.4"),
    _s("MEASURE 2.4", "The system's behaviour is monitored in production", "A.6.2.6"),
    _s("MEASURE 2.5", "The system is shown to be valid and reliable, with limits stated", "A.6.2.4"),
    _s("MEASURE 2.6", "Safety risks are evaluated regularly", "A.6.2.4", "A.6.2.6"),
    _s("MEASURE 2.7", "Security and resilience are evaluated", "A.6.2.4", "A.4.5"),
    _s("MEASURE 2.8", "Transparency and accountability risks are examined", "A.8.2", "A.6.2.7"),
    _s("MEASURE 2.9", "The model is explained and its output interpreted in context", "A.8.2", "A.6.2.3"),
    _s("MEASURE 2.10", "Privacy risk is examined", "A.7.2", "A.5.4"),
    _s("MEASURE 2.11", "Fairness and bias are evaluated", "A.5.4", "A.7.4"),
    _s("MEASURE 2.12", "Environmental impact is assessed", "A.5.5", "A.4.5"),
    _s("MEASURE 2.13", "The measurement approach itself is evaluated", "A.6.2.4", "A.2.4"),
    _s("MEASURE 3.1", "Emerging and unexpected risks are tracked over time", "A.6.2.6"),
    _s("MEASURE 3.2", "Risks hard to measure are tracked some other way", "A.5.3", "A.6.2.6"),
    _s("MEASURE 3.3", "Users and affected people can report problems", "A.8.3", "A.3.3"),
    _s("MEASURE 4.1", "Measurement fits the deployment context", "A.6.2.4", "A.9.4"),
    _s("MEASURE 4.2", "Trustworthiness results are checked with domain experts", "A.6.2.4"),
    _s("MEASURE 4.3", "Changes in performance are tracked and reported", "A.6.2.6", "A.6.2.8"),
    _s("MANAGE 1.1", "Whether the system meets its purpose and should go on is decided", "A.6.2.5", "A.9.4"),
    _s("MANAGE 1.2", "Risks are handled by impact, likelihood and resources", "A.5.2", "A.6.2.5"),
    _s("MANAGE 1.3", "Responses to high risks are planned and documented", "A.5.3", "A.6.2.6"),
    _s("MANAGE 1.4", "Remaining risks are documented for those who deploy and use it", "A.8.2", "A.5.3"),
    _s("MANAGE 2.1", "Resources and alternatives are weighed against the risk", "A.4.2", "A.6.2.5"),
    _s("MANAGE 2.2", "The value of deployed systems is kept up", "A.6.2.6"),
    _s("MANAGE 2.3", "Unforeseen risks are responded to when found", "A.6.2.6", "A.8.4"),
    _s("MANAGE 2.4", "A system can be disengaged or deactivated when it misbehaves", "A.6.2.6", "A.6.2.5"),
    _s("MANAGE 3.1", "Third-party risks are monitored and controlled", "A.10.3"),
    _s("MANAGE 3.2", "Pre-trained models are monitored as part of upkeep", "A.4.4", "A.6.2.6"),
    _s("MANAGE 4.1", "Post-deployment monitoring, appeal and decommissioning are planned", "A.6.2.6", "A.8.3"),
    _s("MANAGE 4.2", "Continual improvement is built into updates", "A.6.2.6", "A.2.4"),
    _s("MANAGE 4.3", "Incidents and errors are communicated, tracked and recovered", "A.8.4", "A.6.2.8"),
)

CONTROL_IDS = frozenset(control.id for control in ISO_CONTROLS)
SUBCATEGORY_IDS = frozenset(sub.id for sub in NIST_SUBCATEGORIES)


def subcategory_key(subcategory_id: str) -> str:
    """The URL form of a subcategory's identifier: ``GOVERN 1.1`` → ``GOVERN-1.1``."""
    return subcategory_id.replace(" ", "-")


def subcategory_from_key(key: str) -> str:
    return key.replace("-", " ", 1)


def control_sort_key(control_id: str) -> tuple[int, ...]:
    """``A.6.2.10`` after ``A.6.2.9``, ``A.10.2`` after ``A.9.4``."""
    return tuple(int(part) for part in control_id.removeprefix("A.").split(".") if part.isdecimal() and part.isascii())


def subcategory_sort_key(subcategory_id: str) -> tuple[int, int, int]:
    function, _, number = subcategory_id.partition(" ")
    major, _, minor = number.partition(".")
    order = list(NIST_FUNCTIONS).index(function) if function in NIST_FUNCTIONS else 99
    return (order, int(major or 0), int(minor or 0))


assert len(ISO_CONTROLS) == 38 and len(CONTROL_IDS) == 38
assert len(NIST_SUBCATEGORIES) == 72 and len(SUBCATEGORY_IDS) == 72
assert all(set(sub.controls) <= CONTROL_IDS for sub in NIST_SUBCATEGORIES)
