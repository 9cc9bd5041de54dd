//! A small W3C WebDriver client for the end-to-end tests: starts `chromedriver` on 127.0.0.1 and
//! drives headless Chromium (Debian's `chromium` and `chromium-driver`) over plain HTTP/JSON.
//!
//! One `Chromedriver` serves several sessions; dropping it shuts chromedriver (and its browsers)
//! down. A `Session` is ended with `quit`, or on drop.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use serde_json::{json, Value};

/// The browser chromedriver starts; Debian's package puts it here.
const CHROMIUM: &str = "/usr/bin/chromium";
/// The key W3C WebDriver names an element reference by.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

#[derive(Debug, thiserror::Error)]
pub enum BrowserError {
    #[error(
        "{0} is not installed: the browser tests need Debian's `chromium` and `chromium-driver` \
         (`apt-get install chromium chromium-driver`; `.ci/run` installs them)"
    )]
    NotInstalled(String),
    #[error("chromedriver did not start: {0}")]
    Start(String),
    #[error("WebDriver {command}: {error}: {message}")]
    WebDriver {
        command: String,
        error: String,
        message: String,
    },
    #[error("WebDriver {command}: {reason}")]
    Transport { command: String, reason: String },
}

/// A running chromedriver on a free port of 127.0.0.1.
pub struct Chromedriver {
    child: Child,
    port: u16,
    client: Client<HttpConnector, Full<Bytes>>,
}

/// How a browser session is set up.
#[derive(Debug, Clone, Copy)]
pub struct SessionOptions {
    /// `false` blocks JavaScript on every page, as a browser with scripts turned off.
    pub javascript: bool,
    pub width: u32,
    pub height: u32,
}

impl Default for SessionOptions {
    fn default() -> Self {
        SessionOptions {
            javascript: true,
            width: 1280,
            height: 900,
        }
    }
}

impl Chromedriver {
    /// Starts chromedriver (`$CHROMEDRIVER`, else `chromedriver` on the PATH) and waits until it
    /// is ready.
    pub async fn start() -> Result<Chromedriver, BrowserError> {
        let program = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
        let resolved =
            which(&program).ok_or_else(|| BrowserError::NotInstalled(program.clone()))?;
        if !Path::new(CHROMIUM).exists() {
            return Err(BrowserError::NotInstalled(CHROMIUM.into()));
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| BrowserError::Start(format!("no free port: {e}")))?
            .port();
        // Its own process group: whatever chromedriver starts can be ended with it.
        let child = Command::new(&resolved)
            .process_group(0)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| BrowserError::Start(format!("{}: {e}", resolved.display())))?;
        let driver = Chromedriver {
            child,
            port,
            client: Client::builder(TokioExecutor::new()).build_http(),
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(status) = driver.call("GET", "/status", None).await {
                if status["ready"].as_bool() == Some(true) {
                    return Ok(driver);
                }
            }
            if Instant::now() > deadline {
                return Err(BrowserError::Start(format!(
                    "not ready on 127.0.0.1:{port} after 20 s"
                )));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// A new headless Chromium session with a fresh profile.
    pub async fn session(&self, options: SessionOptions) -> Result<Session<'_>, BrowserError> {
        let profile = fresh_profile_dir();
        let mut prefs = json!({});
        if !options.javascript {
            prefs["profile.managed_default_content_settings.javascript"] = json!(2);
        }
        let capabilities = json!({
            "capabilities": {
                "alwaysMatch": {
                    "browserName": "chrome",
                    "goog:chromeOptions": {
                        "binary": CHROMIUM,
                        "args": [
                            "--headless=new",
                            "--no-sandbox",
                            "--disable-gpu",
                            "--disable-dev-shm-usage",
                            "--no-first-run",
                            "--hide-scrollbars",
                            format!("--user-data-dir={}", profile.display()),
                            format!("--window-size={},{}", options.width, options.height),
                        ],
                        "prefs": prefs,
                    }
                }
            }
        });
        let created = self.call("POST", "/session", Some(capabilities)).await?;
        let id = created["sessionId"]
            .as_str()
            .ok_or_else(|| BrowserError::Transport {
                command: "new session".into(),
                reason: format!("no sessionId in {created}"),
            })?
            .to_string();
        Ok(Session {
            driver: self,
            id,
            profile,
            ended: false,
        })
    }

    /// One WebDriver command: its `value`, or the error WebDriver answered with.
    async fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, BrowserError> {
        let command = format!("{method} {path}");
        let transport = |reason: String| BrowserError::Transport {
            command: command.clone(),
            reason,
        };
        let request = hyper::Request::builder()
            .method(method)
            .uri(format!("http://127.0.0.1:{}{path}", self.port))
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(
                body.map(|b| b.to_string()).unwrap_or_default(),
            )))
            .map_err(|e| transport(e.to_string()))?;
        let response = self
            .client
            .request(request)
            .await
            .map_err(|e| transport(e.to_string()))?;
        let status = response.status();
        let bytes = response
            .into_body()
            .collect()
            .await
            .map_err(|e| transport(e.to_string()))?
            .to_bytes();
        let answer: Value = serde_json::from_slice(&bytes).map_err(|e| {
            transport(format!(
                "HTTP {status}, not JSON ({e}): {}",
                String::from_utf8_lossy(&bytes)
            ))
        })?;
        let value = answer.get("value").cloned().unwrap_or(Value::Null);
        if status.is_success() {
            return Ok(value);
        }
        Err(BrowserError::WebDriver {
            command,
            error: value["error"]
                .as_str()
                .unwrap_or("unknown error")
                .to_string(),
            message: value["message"]
                .as_str()
                .unwrap_or_default()
                .lines()
                .next()
                .unwrap_or_default()
                .to_string(),
        })
    }
}

impl Drop for Chromedriver {
    /// chromedriver's `/shutdown` ends its sessions and their browsers; then its process group
    /// (chromedriver, the browsers, their helpers) is killed, so nothing outlives a failed test.
    fn drop(&mut self) {
        let _ = blocking_request(self.port, "GET", "/shutdown");
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        if let Ok(group) = i32::try_from(self.child.id()) {
            // SAFETY: kill(2) on the process group this driver started; no memory is touched.
            unsafe {
                libc::kill(-group, libc::SIGKILL);
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A browser session: one Chromium with its own profile.
pub struct Session<'d> {
    driver: &'d Chromedriver,
    id: String,
    profile: PathBuf,
    ended: bool,
}

/// An element of the current page.
#[derive(Debug, Clone)]
pub struct Element(String);

impl Session<'_> {
    async fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, BrowserError> {
        self.driver
            .call(method, &format!("/session/{}{path}", self.id), body)
            .await
    }

    /// Loads `url` and waits for the page to load.
    pub async fn goto(&self, url: &str) -> Result<(), BrowserError> {
        self.call("POST", "/url", Some(json!({ "url": url })))
            .await
            .map(drop)
    }

    pub async fn refresh(&self) -> Result<(), BrowserError> {
        self.call("POST", "/refresh", Some(json!({})))
            .await
            .map(drop)
    }

    /// The string a GET of the session's `path` answers (empty when it answers something else).
    async fn string_at(&self, path: &str) -> Result<String, BrowserError> {
        Ok(self
            .call("GET", path, None)
            .await?
            .as_str()
            .unwrap_or_default()
            .to_string())
    }

    pub async fn title(&self) -> Result<String, BrowserError> {
        self.string_at("/title").await
    }

    /// Waits up to `timeout` for the page's title to be `expected` (a click that submits a
    /// form need not wait for the next page); the title it has then.
    pub async fn wait_for_title(
        &self,
        expected: &str,
        timeout: Duration,
    ) -> Result<String, BrowserError> {
        let deadline = Instant::now() + timeout;
        loop {
            let title = self.title().await?;
            if title == expected || Instant::now() > deadline {
                return Ok(title);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn current_url(&self) -> Result<String, BrowserError> {
        self.string_at("/url").await
    }

    /// The page's HTML as the browser holds it now.
    pub async fn source(&self) -> Result<String, BrowserError> {
        self.string_at("/source").await
    }

    /// The first element matching CSS `selector`.
    pub async fn find(&self, selector: &str) -> Result<Element, BrowserError> {
        let found = self
            .call(
                "POST",
                "/element",
                Some(json!({ "using": "css selector", "value": selector })),
            )
            .await?;
        element(&found)
    }

    /// Every element matching CSS `selector` (none is not an error).
    pub async fn find_all(&self, selector: &str) -> Result<Vec<Element>, BrowserError> {
        let found = self
            .call(
                "POST",
                "/elements",
                Some(json!({ "using": "css selector", "value": selector })),
            )
            .await?;
        found
            .as_array()
            .map(|all| all.iter().map(element).collect())
            .unwrap_or_else(|| Ok(Vec::new()))
    }

    /// The rendered text of `element`, as a person reads it.
    pub async fn text(&self, element: &Element) -> Result<String, BrowserError> {
        self.string_at(&format!("/element/{}/text", element.0))
            .await
    }

    /// The rendered text of the whole page.
    pub async fn body_text(&self) -> Result<String, BrowserError> {
        let body = self.find("body").await?;
        self.text(&body).await
    }

    pub async fn click(&self, element: &Element) -> Result<(), BrowserError> {
        self.call(
            "POST",
            &format!("/element/{}/click", element.0),
            Some(json!({})),
        )
        .await
        .map(drop)
    }

    /// Types `text` into `element`.
    pub async fn type_into(&self, element: &Element, text: &str) -> Result<(), BrowserError> {
        self.call(
            "POST",
            &format!("/element/{}/value", element.0),
            Some(json!({ "text": text })),
        )
        .await
        .map(drop)
    }

    /// Resizes the window to `width` × `height` CSS pixels.
    pub async fn set_window_size(&self, width: u32, height: u32) -> Result<(), BrowserError> {
        self.call(
            "POST",
            "/window/rect",
            Some(json!({ "width": width, "height": height })),
        )
        .await
        .map(drop)
    }

    /// Runs `script` (a function body; `arguments` are `args`) in the page; what it returns.
    /// WebDriver runs it even where the page's own scripts are blocked.
    pub async fn execute(&self, script: &str, args: Vec<Value>) -> Result<Value, BrowserError> {
        self.call(
            "POST",
            "/execute/sync",
            Some(json!({ "script": script, "args": args })),
        )
        .await
    }

    /// A PNG of the window's viewport.
    pub async fn screenshot(&self) -> Result<Vec<u8>, BrowserError> {
        let encoded = self.call("GET", "/screenshot", None).await?;
        base64::engine::general_purpose::STANDARD
            .decode(encoded.as_str().unwrap_or_default())
            .map_err(|e| BrowserError::Transport {
                command: "screenshot".into(),
                reason: e.to_string(),
            })
    }

    /// The handle of the current tab.
    pub async fn window_handle(&self) -> Result<String, BrowserError> {
        self.string_at("/window").await
    }

    /// Opens a new tab and switches to it; its handle.
    pub async fn open_tab(&self) -> Result<String, BrowserError> {
        let created = self
            .call("POST", "/window/new", Some(json!({ "type": "tab" })))
            .await?;
        let handle = created["handle"].as_str().unwrap_or_default().to_string();
        self.switch_to(&handle).await?;
        Ok(handle)
    }

    pub async fn switch_to(&self, handle: &str) -> Result<(), BrowserError> {
        self.call("POST", "/window", Some(json!({ "handle": handle })))
            .await
            .map(drop)
    }

    /// Ends the session and closes its browser.
    pub async fn quit(mut self) -> Result<(), BrowserError> {
        self.ended = true;
        let result = self
            .driver
            .call("DELETE", &format!("/session/{}", self.id), None)
            .await
            .map(drop);
        let _ = std::fs::remove_dir_all(&self.profile);
        result
    }
}

impl Drop for Session<'_> {
    fn drop(&mut self) {
        if !self.ended {
            let _ = blocking_request(self.driver.port, "DELETE", &format!("/session/{}", self.id));
            let _ = std::fs::remove_dir_all(&self.profile);
        }
    }
}

fn element(found: &Value) -> Result<Element, BrowserError> {
    found[ELEMENT_KEY]
        .as_str()
        .map(|id| Element(id.to_string()))
        .ok_or_else(|| BrowserError::Transport {
            command: "find element".into(),
            reason: format!("no element reference in {found}"),
        })
}

/// A profile directory no other session uses.
fn fresh_profile_dir() -> PathBuf {
    use std::sync::atomic::{AtomicU32, Ordering};
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    std::env::temp_dir().join(format!(
        "infra-agent-chromium-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ))
}

/// `program` as given when it is a path, else where the PATH has it.
fn which(program: &str) -> Option<PathBuf> {
    if program.contains('/') {
        return Some(PathBuf::from(program)).filter(|p| p.is_file());
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(program))
            .find(|p| p.is_file())
    })
}

/// One request without a body from a `Drop`, where nothing can be awaited. chromedriver keeps
/// the connection open after answering, so the answer is read up to its `Content-Length`.
fn blocking_request(port: u16, method: &str, path: &str) -> std::io::Result<()> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
    )?;
    let mut answer = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Ok(());
        }
        answer.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&answer);
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head
                .lines()
                .find_map(|l| {
                    let (name, value) = l.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            if body.len() >= length {
                return Ok(());
            }
        }
    }
}
