//! The redaction corpus: real-looking secrets in the places candidates' sessions put them (commands, diffs, `.env`
//! files, outputs, configs), every one of which must be redacted, and text that only looks like secrets, of which
//! at most 2 % may change.
//!
//! The secrets are generated here, not written out, so the source holds no token a scanner would take for a leak;
//! the generator is seeded, so the corpus is the same on every run.

use traceline_capture::redact::redact;

/// A small deterministic generator (xorshift64*), enough for token bodies.
struct Tokens(u64);

impl Tokens {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn from(&mut self, alphabet: &[u8], length: usize) -> String {
        (0..length)
            .map(|_| {
                let index = usize::try_from(self.next() % alphabet.len() as u64).unwrap();
                char::from(alphabet[index])
            })
            .collect()
    }

    fn base62(&mut self, length: usize) -> String {
        self.from(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", length)
    }

    fn upper(&mut self, length: usize) -> String {
        self.from(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", length)
    }

    fn hex(&mut self, length: usize) -> String {
        self.from(b"0123456789abcdef", length)
    }

    fn base64(&mut self, length: usize) -> String {
        self.from(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", length)
    }

    fn candidate_key(&mut self) -> String {
        let alphabet = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
        format!("{}-{}", self.from(alphabet, 4), self.from(alphabet, 4))
    }
}

/// `(text, secret)`: the secret must not survive in the redacted text.
fn secrets() -> Vec<(String, String)> {
    let mut t = Tokens(0x5eed_1234_abcd_9876);
    let mut cases: Vec<(String, String)> = Vec::new();
    let mut add = |text: String, secret: String| cases.push((text, secret));

    // Provider tokens, in commands, configs and outputs.
    let s = t.base62(80);
    add(format!("export ANTHROPIC_API_KEY=sk-ant-api03-{s}"), s);
    let s = t.base62(93);
    add(format!("client = Anthropic(api_key=\"sk-ant-api03-{s}\")"), s);
    let s = t.base62(48);
    add(format!("OPENAI_API_KEY=sk-proj-{s} python run.py"), s);
    let s = t.base62(48);
    add(format!("openai.api_key = 'sk-{s}'"), s);
    let s = t.base62(48);
    add(format!("+OPENAI_KEY=sk-{s}"), s);
    let s = t.base62(36);
    add(format!("git clone https://ghp_{s}@github.com/acme/api.git"), s);
    let s = t.base62(36);
    add(format!("GH_TOKEN=ghp_{s} gh pr create --fill"), s);
    let s = t.base62(36);
    add(format!("remote: token gho_{s} is expired"), s);
    let s = t.base62(36);
    add(format!("\"token\": \"ghs_{s}\""), s);
    let s = format!("{}_{}", t.base62(22), t.base62(59));
    add(format!("echo github_pat_{s} | docker login ghcr.io -u acme --password-stdin"), s);
    let s = t.base62(20);
    add(format!("glab auth login --token glpat-{s}"), s);
    let s = t.base62(36);
    add(format!("//registry.npmjs.org/:_authToken=npm_{s}"), s);
    let s = t.upper(16);
    add(format!("aws_access_key_id = AKIA{s}"), s);
    let s = t.base64(40);
    add(format!("aws_secret_access_key = {s}"), s);
    let s = t.upper(16);
    add(format!("AWS_ACCESS_KEY_ID=ASIA{s} aws s3 ls"), s);
    let s = format!("{}-{}-{}", t.hex(12), t.hex(13), t.base62(24));
    add(format!("SLACK_BOT_TOKEN=xoxb-{s}"), s);
    let s = format!("{}-{}", t.hex(12), t.base62(32));
    add(format!("curl -d token=xoxp-{s} https://slack.com/api/auth.test"), s);
    let s = format!("{}-{}", t.hex(12), t.base62(40));
    add(format!("cookie d=xoxd-{s}; workspace=acme"), s);
    let s = format!("{}-{}", t.hex(12), t.base62(40));
    add(format!("slack client token xoxc-{s}"), s);
    let s = t.base62(24);
    add(format!("stripe.api_key = \"sk_live_{s}\""), s);
    let s = t.base62(24);
    add(format!("STRIPE_SECRET=sk_test_{s}"), s);
    let s = t.base62(24);
    add(format!("restricted key rk_live_{s} created"), s);
    let s = t.base62(35);
    add(
        format!("<script src=\"https://maps.googleapis.com/maps/api/js?key=AIza{s}\"></script>"),
        s,
    );
    let s = t.base62(120);
    add(format!("Authorization: Bearer ya29.{s}"), s);
    let s = t.base62(120);
    add(format!("gcloud says: access token ya29.{s}"), s);
    let s = t.from(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", 34);
    add(format!("huggingface-cli login --token hf_{s}"), s);
    let s = t.from(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", 34);
    add(format!("HF_TOKEN=hf_{s}"), s);

    // Traceline's own credentials.
    let s = t.base62(40);
    add(format!("curl -H 'X-API-Key: pst_sess_{s}' localhost:8080/v1/sessions"), s);
    let s = t.base62(40);
    add(format!("{{\"sessionToken\": \"pst_sess_{s}\"}}"), s);
    let s = t.base62(40);
    add(format!("export KEY=psk_live_{s}"), s);
    let s = t.base62(40);
    add(format!("{{\"apiKey\": \"psk_live_{s}\", \"org\": {{}}}}"), s);
    let s = t.candidate_key();
    add(format!("traceline start PST-{s} --server https://traceline.example.com"), s);
    let s = t.candidate_key();
    add(format!("My key is pst-{} if you need it", s.to_lowercase()), s.to_lowercase());

    // JWTs, bearer tokens, Authorization and cookies.
    let s = format!("eyJhbGciOiJIUzI1NiJ9.eyJ{}.{}", t.base62(40), t.base62(43));
    add(format!("localStorage.setItem('jwt', '{s}')"), s);
    let s = format!("eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJ{}.{}", t.base62(60), t.base62(86));
    add(format!("id_token={s}&state=xyz"), s);
    let s = t.base62(40);
    add(format!("curl -H \"Authorization: Bearer {s}\" https://api.example.com/me"), s);
    let s = t.base64(28);
    add(format!("Authorization: Basic {s}"), s);
    let s = t.base62(32);
    add(format!("curl -b 'Cookie: session={s}; theme=dark' https://app.example.com"), s);
    let s = t.hex(64);
    add(format!("< Set-Cookie: sid={s}; Path=/; HttpOnly"), s);
    let s = t.base62(48);
    add(format!("fetch(url, {{ headers: {{ Cookie: \"auth={s}\" }} }})"), s);

    // Private keys.
    let s = t.base64(64);
    add(format!("-----BEGIN RSA PRIVATE KEY-----\nMIIEow{s}\n-----END RSA PRIVATE KEY-----"), s);
    let s = t.base64(64);
    add(format!("+-----BEGIN PRIVATE KEY-----\n+MIIEv{s}\n+-----END PRIVATE KEY-----"), s);
    let s = t.base64(64);
    add(format!("cat id_ed25519\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3Bl{s}\n-----END OPENSSH PRIVATE KEY-----\n"), s);
    let s = t.base64(64);
    add(format!("-----BEGIN EC PRIVATE KEY-----\nMHcC{s}\n-----END EC PRIVATE KEY-----"), s);
    let s = t.base64(64);
    add(format!("-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQdG{s}\n=abcd\n-----END PGP PRIVATE KEY BLOCK-----"), s);
    let s = t.base64(64);
    add(format!("gpg output (cut): -----BEGIN PGP PRIVATE KEY BLOCK-----\nlQVY{s}"), s);

    // Passwords in URLs, connection strings and DSNs.
    let s = t.base62(16);
    add(format!("DATABASE_URL=postgres://app:{s}@db.internal:5432/app"), s);
    let s = t.base62(16);
    add(format!("+  url: mysql://root:{s}@localhost:3306/shop"), s);
    let s = t.base62(20);
    add(format!("redis-cli -u redis://default:{s}@cache:6379"), s);
    let s = t.base62(16);
    add(format!("amqp://guest:{s}@rabbit:5672/"), s);
    let s = t.base62(16);
    add(format!("mongosh \"mongodb+srv://admin:{s}@cluster0.abcde.mongodb.net/test\""), s);
    let s = t.hex(32);
    add(format!("SENTRY_DSN=https://{s}@o123456.ingest.sentry.io/7654321"), s);
    let s = t.hex(32);
    add(format!("Sentry.init({{ dsn: \"https://{s}@sentry.example.com/2\" }})"), s);
    let s = t.base64(86) + "==";
    add(
        format!("DefaultEndpointsProtocol=https;AccountName=acme;AccountKey={s};EndpointSuffix=core.windows.net"),
        s,
    );

    // Assignments in `.env` files, shells, YAML, JSON and code.
    let s = t.base62(50);
    add(format!("SECRET_KEY={s}"), s);
    let s = t.base62(50);
    add(format!("DJANGO_SECRET_KEY='{s}'"), s);
    let s = t.base62(32);
    add(format!("+JWT_SECRET={s}"), s);
    let s = t.base62(24);
    add(format!("DB_PASSWORD={s}"), s);
    let s = t.base62(12);
    add(format!("  password: {s}"), s);
    let s = t.base62(12);
    add(format!("{{\"username\": \"admin\", \"password\": \"{s}\"}}"), s);
    let s = t.base62(18);
    add(format!("docker run -e POSTGRES_PASSWORD={s} postgres:16"), s);
    let s = t.base62(18);
    add(format!("kubectl create secret generic db --from-literal=password={s}"), s);
    let s = t.base62(40);
    add(format!("const apiKey = \"{s}\";"), s);
    let s = t.base62(40);
    add(format!("MAPBOX_ACCESS_TOKEN={s}"), s);
    let s = t.base62(32);
    add(format!("client_secret: {s}"), s);
    let s = t.base62(32);
    add(format!("export GITHUB_CLIENT_SECRET=\"{s}\""), s);
    let s = t.base62(40);
    add(format!("OPENAI_KEY={}{s}", t.hex(4)), s);
    let s = t.base62(24);
    add(format!("app.config['SECRET_KEY'] = '{s}'"), s);
    let s = t.base64(44);
    add(format!("ENCRYPTION_KEY={s}"), s);
    let s = t.base62(32);
    add(format!("private_key: {s}"), s);
    let s = t.base62(16);
    add(format!("mysql --password={s} -u root shop"), s);
    let s = t.base62(16);
    add(format!("psql --set=sslmode=require --pass {s}"), s);
    let s = t.base62(32);
    add(format!("?access_token={s}&per_page=100"), s);
    let s = t.base62(24);
    add(format!("settings.REDIS_PASS = '{s}'"), s);
    let s = t.base62(20);
    add(format!("<add key=\"ConnectionString\" value=\"Server=db;User Id=sa;Password={s};\"/>"), s);

    // Credentials on command lines.
    let s = t.base62(14);
    add(format!("curl -u admin:{s} https://jenkins.example.com/api/json"), s);
    let s = t.base62(14);
    add(format!("curl --user deploy:{s} -X POST https://registry.example.com"), s);
    let s = t.base62(14);
    add(format!("curl -sS --user=ci:{s} https://nexus.example.com"), s);
    let s = t.base62(12);
    add(format!("mysql -uroot -p{s} shop < dump.sql"), s);
    let s = t.base62(12);
    add(format!("mysqldump -u app -p{s} --all-databases > all.sql"), s);
    let s = t.base62(12);
    add(format!("mariadb -h db -u admin -p{s}"), s);

    // Outputs that echo secrets back.
    let s = t.base62(36);
    add(format!("$ env | grep TOKEN\nGITHUB_TOKEN=ghp_{s}\nHOME=/home/dev"), s);
    let s = t.base62(48);
    add(format!("Error: invalid x-api-key sk-ant-api03-{s} (401)"), s);
    let s = t.base62(24);
    add(format!("> printenv\nPGPASSWORD={s}\nPATH=/usr/bin"), s);
    let s = t.base62(40);
    add(format!("warning: token {} will expire; Bearer {s}", t.hex(4)), s);
    cases
}

/// Text that looks like secrets and is not: none of it should change (at most 2 % may).
fn look_alikes() -> Vec<String> {
    let mut t = Tokens(0xfeed_0042_cafe_7777);
    let mut cases: Vec<String> = [
        "pip install scikit-learn sk-learn-utils",
        "task-ant-api03-notakey",
        "SORT_KEY=created_at",
        "primary_key: id",
        "foreign_key=user_id",
        "cache_key = \"user:profile\"",
        "max_tokens=4096 token_count=12",
        "password: ${DB_PASSWORD}",
        "PASSWORD=$DB_PASSWORD ./run",
        "token: ${{ secrets.GITHUB_TOKEN }}",
        "api_key: <your-api-key>",
        "export API_KEY=%API_KEY%",
        "secret: true",
        "if password == stored_hash:",
        "the password is wrong",
        "pwd=abc",
        "token = read_token()",
        "password = getpass.getpass()",
        "let token = tokenizer.next_token();",
        "\"cookie\": \"^0.5.0\"",
        "\"jsonwebtoken\": \"9.0.2\"",
        "npm install cookie-parser express-session",
        "docker run -p 8080:80 -u 1000:1000 nginx",
        "mkdir -p src/routes && touch src/routes/books.ts",
        "git push -u origin main",
        "sort -u names.txt",
        "ssh git@github.com",
        "git clone https://github.com/acme/bookshelf-api.git",
        "open https://user@example.com/profile",
        "ssh://git@gitlab.example.com:2222/acme/api.git",
        "mysql -u root -h db shop",
        "curl -I https://example.com",
        "curl -u \"$USER:$PASS\" https://example.com",
        "Bearer of bad news",
        "bearer token must be sent in the header",
        "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\n-----END PUBLIC KEY-----",
        "-----BEGIN CERTIFICATE-----\nMIIDdzCCAl+gAwIBAgIEAgAAuTANBgkqhkiG9w0BAQUFADBa\n-----END CERTIFICATE-----",
        "ghp_short",
        "AKIA is a prefix, AKIAIOSFODNN7EXAMPLEXX is too long",
        "The meeting is at 10:00 PST-0800",
        "Ticket PST-1234 is closed",
        "psk_live_short",
        "pst_sess_ tokens are 49 characters long",
        "ya29 is Google's prefix",
        "from huggingface_hub import hf_hub_download",
        "xoxb- tokens belong to bots",
        "AIza alone is not a key",
        "eyJ starts every JWT",
        "cat /etc/passwd",
        "api_key_header = \"X-API-Key\"",
        "password_reset_expiry_seconds = 3600",
        "git log --oneline -n 5",
        "cargo test -- --nocapture",
        "npm test",
        "héllo wörld ✓ sk-",
        "SELECT id, title FROM books WHERE id = $1",
        "const key = event.key;",
        "if (event.key === 'Enter') submit();",
        "keyboard_key: Escape",
        "monkey=banana",
        "tokens: [\"a\", \"b\"]",
        "session_timeout: 3600",
        "Set the Cookie header to send cookies",
        "cookie: {}",
    ]
    .iter()
    .map(|text| (*text).to_owned())
    .collect();
    // Hashes and ids that look random but are not credentials.
    cases.push(format!("[main {}] feat: add GET /api/books/:id", t.hex(7)));
    cases.push(format!("commit {}", t.hex(40)));
    cases.push(format!("sha256:{}", t.hex(64)));
    cases.push(format!("integrity sha512-{}==", t.base64(86)));
    cases.push(format!(
        "request id {}-{}-4{}-a{}-{}",
        t.hex(8),
        t.hex(4),
        t.hex(3),
        t.hex(3),
        t.hex(12)
    ));
    cases.push(format!("\"etag\": \"W/\\\"{}\\\"\"", t.hex(32)));
    cases.push(format!("docker pull postgres@sha256:{}", t.hex(64)));
    cases.push(format!("data:image/png;base64,{}", t.base64(120)));
    cases.push(format!("https://cdn.example.com/assets/app-{}.js", t.hex(20)));
    cases.push(format!("Found 3 matches in {} files", t.hex(2).len()));
    cases.push(format!("+const BOOKS_CACHE_KEY = \"books:{}\";", "v2"));
    cases.push(format!("build {} finished in 2.4s", t.hex(12)));
    cases.push(format!("session {}-{}-{} started", t.hex(8), t.hex(4), t.hex(4)));
    cases.push("test result: ok. 6 passed; 0 failed; 0 ignored".to_owned());
    cases.push("Tests  3 passed (4)".to_owned());
    cases.push("error[E0308]: mismatched types".to_owned());
    cases.push("npm ERR! code E404".to_owned());
    cases.push("PST-2026 roadmap".to_owned());
    cases.push("const url = `https://${host}/api`;".to_owned());
    cases.push("postgres://localhost:5432/app".to_owned());
    cases.push("DATABASE_URL=postgres://app@localhost/app".to_owned());
    cases
}

#[test]
fn every_secret_is_redacted() {
    let secrets = secrets();
    assert!(secrets.len() >= 80, "{} secrets", secrets.len());
    let missed: Vec<String> = secrets
        .iter()
        .filter(|(text, secret)| redact(text).contains(secret.as_str()))
        .map(|(text, _)| format!("{text:?} → {:?}", redact(text)))
        .collect();
    assert!(missed.is_empty(), "{} secrets passed:\n{}", missed.len(), missed.join("\n"));
}

#[test]
fn look_alikes_are_left_alone() {
    let look_alikes = look_alikes();
    assert!(look_alikes.len() >= 80, "{} look-alikes", look_alikes.len());
    let changed: Vec<String> = look_alikes
        .iter()
        .filter(|text| redact(text) != text.as_str())
        .map(|text| format!("{text:?} → {:?}", redact(text)))
        .collect();
    // At most 2 %.
    assert!(
        changed.len() * 50 <= look_alikes.len(),
        "{} of {} look-alikes changed:\n{}",
        changed.len(),
        look_alikes.len(),
        changed.join("\n")
    );
}
