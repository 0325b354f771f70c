// A real OpenID Connect provider for the tests (npm oidc-provider, installed by `npm ci`).
// Env: PORT, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI. Its development login screen accepts any
// login name; the account's e-mail is that name (verified), so "anna@amsterdam.nl" logs in as
// the portal account with that e-mail.
import Provider from "oidc-provider";

const port = Number(process.env.PORT);
const issuer = `http://127.0.0.1:${port}`;
const provider = new Provider(issuer, {
  clients: [{
    client_id: process.env.CLIENT_ID,
    client_secret: process.env.CLIENT_SECRET,
    redirect_uris: [process.env.REDIRECT_URI],
    grant_types: ["authorization_code"],
    response_types: ["code"],
    token_endpoint_auth_method: "client_secret_basic",
  }],
  claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name"] },
  pkce: { required: () => true },
  async findAccount(_ctx, id) {
    return {
      accountId: id,
      async claims() { return { sub: id, email: id, email_verified: true, name: id }; },
    };
  },
  cookies: { keys: ["ggk-test-cookie-key"] },
});
provider.listen(port, "127.0.0.1", () => { console.log(`oidc-provider ready on ${issuer}`); });
