//! The command line: `create-user` (password from standard input) and start-up without a
//! signing key.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use crate::auth::login;
use crate::helpers::TestApp;

pub(super) fn create_user(app: &TestApp, email: &str, role: &str, stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_groupwork"))
        .args([
            "create-user",
            "--email",
            email,
            "--name",
            "First Admin",
            "--role",
            role,
        ])
        .env("DATABASE_URL", &app.db_url)
        .env("GROUPWORK_AUDIT_KEY", crate::helpers::AUDIT_KEY_B64)
        .current_dir(std::env::temp_dir())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[actix_web::test]
async fn serve_without_jwt_secret_names_it_and_exits() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_groupwork"))
        .arg("serve")
        .env_clear()
        .env("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")
        .env("GROUPWORK_NOTES_KEY", crate::helpers::NOTES_KEY_B64)
        .current_dir(std::env::temp_dir())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(stderr.contains("GROUPWORK_JWT_SECRET"), "{stderr}");
    assert!(!stderr.contains("panicked"));
}

#[actix_web::test]
async fn create_user_cli_reads_the_password_from_stdin() {
    let app = TestApp::spawn().await;
    let email = "first.admin@clinic.test";
    for (stdin, why) in [
        ("weak\n", "too short"),
        ("password1234\n", "guessable"),
        ("", "no password at all"),
    ] {
        let out = create_user(&app, email, "admin", stdin);
        assert!(!out.status.success(), "{why}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.lines().count(), 1, "{why}: {stderr}");
        assert!(stderr.contains("password"), "{why}: {stderr}");
    }
    let out = create_user(&app, email, "root", "copper-lantern-orbit-2048\n");
    assert!(String::from_utf8_lossy(&out.stderr).contains("--role"));

    let out = create_user(&app, email, "admin", "copper-lantern-orbit-2048\n");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains(email));
    let again = create_user(
        &app,
        "FIRST.ADMIN@clinic.test",
        "admin",
        "copper-lantern-orbit-2048\n",
    );
    assert!(
        !again.status.success(),
        "the email is taken, whatever its case"
    );

    let r = login(&app, "First.Admin@clinic.test", "copper-lantern-orbit-2048")
        .await
        .expect(200);
    assert_eq!(r.body["user"]["role"], "admin");
    assert_eq!(r.body["user"]["display_name"], "First Admin");
    let created = app.audit_actions("user.create");
    assert_eq!(created.len(), 1, "the command is audited");
    assert_eq!(created[0].0, None, "no actor: an operator on the server");
    assert_eq!(created[0].3["via"], "cli");
}
