//! The local outbox: the default `Mailer` and `SmsSender` when no AWS channel is configured.
//! Every message becomes one JSON object on its own line of an append-only file (JSON Lines),
//! so developers and end-to-end tests can read codes and links from it; the log only ever
//! names the channel, the kind and the masked recipient.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{Value, json};

use super::{DeliveryError, Email, Mailer, Sms, SmsSender, mask};
use crate::clock::{Clock, iso};

/// Appends rendered messages to a JSON Lines file.
pub struct Outbox {
    path: PathBuf,
    clock: Arc<dyn Clock>,
    /// Serialises appends within this process so lines never interleave.
    lock: tokio::sync::Mutex<()>,
}

impl Outbox {
    pub fn new(path: impl Into<PathBuf>, clock: Arc<dyn Clock>) -> Self {
        Self {
            path: path.into(),
            clock,
            lock: tokio::sync::Mutex::new(()),
        }
    }

    /// The file this outbox appends to.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes `record` as one line. The write is a small local append done inline while the
    /// mutex is held (no await in between), so a cancelled caller can never leave half a line
    /// behind for the next writer to interleave with.
    async fn append(&self, record: &Value) -> Result<(), DeliveryError> {
        let mut line = serde_json::to_string(record)
            .map_err(|e| DeliveryError(format!("outbox: cannot encode message: {e}")))?;
        line.push('\n');
        let _guard = self.lock.lock().await;
        self.write_line(line.as_bytes()).map_err(|e| {
            DeliveryError(format!(
                "outbox: cannot append to {}: {e}",
                self.path.display()
            ))
        })
    }

    fn write_line(&self, line: &[u8]) -> std::io::Result<()> {
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        file.write_all(line)
    }
}

impl std::fmt::Debug for Outbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbox")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl Mailer for Outbox {
    async fn send(&self, email: &Email) -> Result<(), DeliveryError> {
        let from = if email.from_name.trim().is_empty() {
            email.from_email.clone()
        } else {
            format!("{} <{}>", email.from_name, email.from_email)
        };
        let record = json!({
            "channel": "email",
            "to": email.to,
            "from": from,
            "subject": email.subject,
            "text": email.text,
            "html": email.html,
            "kind": email.kind.as_str(),
            "createdAt": iso(self.clock.now_ms()),
        });
        self.append(&record).await?;
        tracing::info!(
            channel = "email",
            kind = email.kind.as_str(),
            to = %mask(&email.to),
            "outbox: message written"
        );
        Ok(())
    }
}

#[async_trait]
impl SmsSender for Outbox {
    async fn send(&self, sms: &Sms) -> Result<(), DeliveryError> {
        let record = json!({
            "channel": "sms",
            "to": sms.to,
            "text": sms.text,
            "kind": sms.kind.as_str(),
            "createdAt": iso(self.clock.now_ms()),
        });
        self.append(&record).await?;
        tracing::info!(
            channel = "sms",
            kind = sms.kind.as_str(),
            to = %mask(&sms.to),
            "outbox: message written"
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;
    use crate::clock::FixedClock;
    use crate::messaging::MessageKind;

    const NOW_MS: i64 = 1_767_225_600_123; // 2026-01-01T00:00:00.123Z

    static SEQ: AtomicU32 = AtomicU32::new(0);

    /// Outbox tests run one at a time: `tracing` caches each callsite's interest process-wide,
    /// and a callsite first hit on another test thread (which has no subscriber) while the log
    /// test installs its thread-local subscriber can be cached as "never", losing a log line.
    static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

    /// A fresh, not yet existing file path inside its own (not yet existing) directory.
    struct TempPath {
        dir: PathBuf,
        file: PathBuf,
    }

    impl TempPath {
        fn new(tag: &str) -> Self {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or(0);
            let n = SEQ.fetch_add(1, Ordering::SeqCst);
            let dir = std::env::temp_dir().join(format!(
                "outbox-test-{tag}-{}-{n}-{nanos}",
                std::process::id()
            ));
            let file = dir.join("nested").join("outbox.jsonl");
            Self { dir, file }
        }
    }

    impl Drop for TempPath {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    fn outbox(tmp: &TempPath) -> Outbox {
        Outbox::new(tmp.file.clone(), Arc::new(FixedClock::new(NOW_MS)))
    }

    fn email(to: &str, code: &str) -> Email {
        Email {
            kind: MessageKind::EmailOtp,
            to: to.into(),
            to_name: "Alice".into(),
            from_email: "noreply@example.org".into(),
            from_name: "App".into(),
            reply_to: String::new(),
            subject: "Your code".into(),
            text: format!("Your code is {code}"),
            html: format!("<p>Your code is <b>{code}</b></p>"),
        }
    }

    fn sms(to: &str, code: &str) -> Sms {
        Sms {
            kind: MessageKind::PhoneOtp,
            to: to.into(),
            text: format!("Your code is {code}"),
            sender_id: String::new(),
        }
    }

    fn lines(path: &Path) -> Vec<Value> {
        let raw = std::fs::read_to_string(path).expect("read the outbox file");
        assert!(
            raw.ends_with('\n'),
            "every record ends with a newline: {raw:?}"
        );
        raw.lines()
            .map(|l| {
                serde_json::from_str(l).unwrap_or_else(|e| panic!("invalid JSON line {l:?}: {e}"))
            })
            .collect()
    }

    #[tokio::test]
    async fn writes_one_email_with_all_fields() {
        let _serial = SERIAL.lock().await;
        let tmp = TempPath::new("email");
        let ob = outbox(&tmp);
        Mailer::send(&ob, &email("alice@example.com", "123456"))
            .await
            .expect("send email");

        let recs = lines(&tmp.file);
        assert_eq!(recs.len(), 1);
        let r = &recs[0];
        assert_eq!(r["channel"], "email");
        assert_eq!(r["to"], "alice@example.com");
        assert_eq!(r["from"], "App <noreply@example.org>");
        assert_eq!(r["subject"], "Your code");
        assert_eq!(r["text"], "Your code is 123456");
        assert_eq!(r["html"], "<p>Your code is <b>123456</b></p>");
        assert_eq!(r["kind"], "email_otp");
        assert_eq!(r["createdAt"], "2026-01-01T00:00:00.123+00:00");
    }

    #[tokio::test]
    async fn from_without_name_is_the_bare_address() {
        let _serial = SERIAL.lock().await;
        let tmp = TempPath::new("bare");
        let ob = outbox(&tmp);
        let mut e = email("alice@example.com", "1");
        e.from_name = String::new();
        Mailer::send(&ob, &e).await.expect("send email");
        assert_eq!(lines(&tmp.file)[0]["from"], "noreply@example.org");
    }

    #[tokio::test]
    async fn writes_one_sms_without_email_fields() {
        let _serial = SERIAL.lock().await;
        let tmp = TempPath::new("sms");
        let ob = outbox(&tmp);
        SmsSender::send(&ob, &sms("+15550001111", "654321"))
            .await
            .expect("send sms");

        let recs = lines(&tmp.file);
        assert_eq!(recs.len(), 1);
        let r = &recs[0];
        assert_eq!(r["channel"], "sms");
        assert_eq!(r["to"], "+15550001111");
        assert_eq!(r["text"], "Your code is 654321");
        assert_eq!(r["kind"], "phone_otp");
        assert_eq!(r["createdAt"], "2026-01-01T00:00:00.123+00:00");
        let obj = r.as_object().expect("a JSON object");
        for absent in ["subject", "html", "from"] {
            assert!(
                obj.get(absent).is_none_or(Value::is_null),
                "sms has no {absent}: {r}"
            );
        }
    }

    #[tokio::test]
    async fn appends_instead_of_truncating() {
        let _serial = SERIAL.lock().await;
        let tmp = TempPath::new("append");
        let ob = outbox(&tmp);
        Mailer::send(&ob, &email("a@example.com", "111111"))
            .await
            .expect("first send");
        // A second outbox on the same file (as after a restart) must append too.
        let again = outbox(&tmp);
        SmsSender::send(&again, &sms("+15550002222", "222222"))
            .await
            .expect("second send");

        let recs = lines(&tmp.file);
        assert_eq!(recs.len(), 2);
        assert_eq!(recs[0]["channel"], "email");
        assert_eq!(recs[0]["text"], "Your code is 111111");
        assert_eq!(recs[1]["channel"], "sms");
        assert_eq!(recs[1]["text"], "Your code is 222222");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_sends_give_whole_lines() {
        let _serial = SERIAL.lock().await;
        let tmp = TempPath::new("concurrent");
        let ob = Arc::new(outbox(&tmp));
        // A long body makes torn or interleaved writes visible if the lock were missing.
        let filler = "x".repeat(8 * 1024);
        let mut tasks = Vec::new();
        for i in 0..20 {
            let ob = ob.clone();
            let filler = filler.clone();
            tasks.push(tokio::spawn(async move {
                if i % 2 == 0 {
                    let mut e = email(&format!("user{i}@example.com"), &i.to_string());
                    e.html = filler;
                    Mailer::send(&*ob, &e).await
                } else {
                    let mut s = sms(&format!("+1555000{i:04}"), &i.to_string());
                    s.text = format!("{i} {filler}");
                    SmsSender::send(&*ob, &s).await
                }
            }));
        }
        for t in tasks {
            t.await.expect("task joined").expect("send succeeded");
        }

        let recs = lines(&tmp.file);
        assert_eq!(recs.len(), 20);
        let mut seen: Vec<String> = recs
            .iter()
            .map(|r| r["to"].as_str().expect("to is a string").to_owned())
            .collect();
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), 20, "every message appears exactly once");
    }

    #[tokio::test]
    async fn unwritable_path_is_a_delivery_error() {
        let _serial = SERIAL.lock().await;
        let tmp = TempPath::new("unwritable");
        // The "directory" the outbox needs is a regular file.
        std::fs::create_dir_all(&tmp.dir).expect("create temp dir");
        let blocker = tmp.dir.join("nested");
        std::fs::write(&blocker, b"not a directory").expect("create blocker file");
        let ob = outbox(&tmp);
        let err = Mailer::send(&ob, &email("a@example.com", "999999"))
            .await
            .expect_err("cannot write below a regular file");
        assert!(err.0.contains("outbox"), "{err}");
        assert!(
            !err.to_string().contains("999999"),
            "no secret in the error: {err}"
        );
    }

    /// A `tracing` writer collecting everything logged on this thread.
    #[derive(Clone, Default)]
    struct Captured(Arc<std::sync::Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0
                .lock()
                .map_err(|_| std::io::Error::other("poisoned"))?
                .extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[tokio::test]
    async fn logs_mask_the_recipient_and_never_show_the_secret() {
        let _serial = SERIAL.lock().await;
        let tmp = TempPath::new("log");
        let ob = outbox(&tmp);
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::INFO)
            .with_writer(move || writer.clone())
            .finish();
        // The default (current-thread) test runtime keeps every poll on this thread.
        let _default = tracing::subscriber::set_default(subscriber);
        tracing::callsite::rebuild_interest_cache();

        Mailer::send(&ob, &email("alice@example.com", "424242"))
            .await
            .expect("send email");
        SmsSender::send(&ob, &sms("+4915112345667", "737373"))
            .await
            .expect("send sms");

        let log =
            String::from_utf8(captured.0.lock().expect("log buffer").clone()).expect("utf-8 log");
        assert_eq!(log.lines().count(), 2, "one line per message: {log}");
        assert!(log.contains("al***@example.com"), "{log}");
        assert!(log.contains("+4915***67"), "{log}");
        assert!(
            log.contains("email_otp") && log.contains("phone_otp"),
            "{log}"
        );
        for secret in ["424242", "737373", "alice@example.com", "+4915112345667"] {
            assert!(!log.contains(secret), "log leaks {secret}: {log}");
        }
    }
}
