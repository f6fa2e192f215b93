// A real OpenID provider on loopback for Gatehouse's single sign-on tests: node-oidc-provider (certified),
// with its development sign-in form (any password is accepted; the login names the account).
//
//   node provider.mjs <port> <accounts.json>
//
// Accounts are read from the JSON file at every sign-in, so a test changes someone's groups by rewriting it:
//   {"alice": {"email": "alice@example.com", "name": "Alice Doe", "groups": ["gh-security"]}}
// An account without "groups" gets no groups claim at all. The subject (sub) of an account is its login.
// The Gatehouse client is "gatehouse" with secret "gatehouse-test-secret" (client_secret_basic);
// its redirect URIs are any loopback (or Django test client) address ending /oidc/callback/.
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';

import Provider from 'oidc-provider';

const port = Number(process.argv[2] || 0);
const accountsFile = process.argv[3];
if (!port || !accountsFile) {
  console.error('usage: node provider.mjs <port> <accounts.json>');
  process.exit(2);
}
const issuer = `http://127.0.0.1:${port}`;

function accounts() {
  return JSON.parse(readFileSync(accountsFile, 'utf8'));
}

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'test-rs256', alg: 'RS256', use: 'sig' };

const configuration = {
  clients: [
    {
      client_id: 'gatehouse',
      client_secret: 'gatehouse-test-secret',
      redirect_uris: ['http://testserver/oidc/callback/'],
      post_logout_redirect_uris: ['http://testserver/accounts/login/'],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
    {
      // The same, with a secret full of characters HTTP Basic credentials must form-encode (RFC 6749 2.3.1).
      client_id: 'gatehouse-reserved',
      client_secret: 'a+b/c:d%e&f=g h',
      redirect_uris: ['http://testserver/oidc/callback/'],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  jwks: { keys: [signingKey] },
  cookies: { keys: ['gatehouse-test-provider-cookie-key'] },
  scopes: ['openid', 'email', 'profile', 'groups'],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'given_name', 'family_name', 'preferred_username'],
    groups: ['groups'],
  },
  features: {
    devInteractions: { enabled: true },
    rpInitiatedLogout: { enabled: true },
  },
  // Skip the consent screen: the test client is first-party.
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) {
      const existing = await ctx.oidc.provider.Grant.find(grantId);
      if (existing) return existing;
    }
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope('openid email profile groups');
    await grant.save();
    return grant;
  },
  async findAccount(ctx, id) {
    const account = accounts()[id];
    if (!account) return undefined;
    return {
      accountId: id,
      async claims() {
        const claims = {
          sub: id,
          email: account.email,
          email_verified: account.email_verified ?? true,
          name: account.name,
          given_name: account.given_name,
          family_name: account.family_name,
          preferred_username: account.preferred_username ?? id,
        };
        if ('groups' in account) claims.groups = account.groups;
        return claims;
      },
    };
  },
  ttl: {
    AuthorizationCode: Number(process.env.CODE_TTL_SECONDS || 60),
    IdToken: 3600,
    AccessToken: 3600,
    Interaction: 600,
    Session: 3600,
    Grant: 3600,
  },
};

const provider = new Provider(issuer, configuration);

// The live test server's port changes with every run: any loopback address with the right path will do.
const LOOPBACK = /^http:\/\/(127\.0\.0\.1|localhost|testserver)(:\d+)?\//u;
const { redirectUriAllowed, postLogoutRedirectUriAllowed } = provider.Client.prototype;
provider.Client.prototype.redirectUriAllowed = function allowLoopback(value) {
  return (LOOPBACK.test(value) && new URL(value).pathname === '/oidc/callback/') || redirectUriAllowed.call(this, value);
};
provider.Client.prototype.postLogoutRedirectUriAllowed = function allowLoopback(value) {
  return (LOOPBACK.test(value) && new URL(value).pathname === '/accounts/login/')
    || postLogoutRedirectUriAllowed.call(this, value);
};

provider.on('server_error', (ctx, error) => console.error('provider server_error', error));

provider.listen(port, '127.0.0.1', () => {
  console.log(`oidc-provider listening on ${issuer}`);
});
