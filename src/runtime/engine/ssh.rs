//! `ssh://[user@]host[:port]` engines, reached as the docker CLI reaches them: each connection
//! runs `ssh [-l USER] [-p PORT] -- HOST docker system dial-stdio` and speaks HTTP over the
//! child's standard input and output. ssh's own configuration (keys, agent, known hosts,
//! `~/.ssh/config`) applies unchanged.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bollard::{ClientVersion, Docker};
use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadBuf};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

/// Where an `ssh://` endpoint points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SshTarget {
    pub user: Option<String>,
    pub host: String,
    pub port: Option<u16>,
}

impl SshTarget {
    /// Reads `ssh://[user@]host[:port]`; a path after the host is refused, as the docker CLI
    /// refuses it.
    pub(crate) fn parse(url: &str) -> Result<SshTarget, String> {
        let rest = url
            .strip_prefix("ssh://")
            .ok_or_else(|| format!("{url} is not an ssh:// address"))?;
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        if !path.is_empty() {
            return Err(format!("extra path after the host: {path:?}"));
        }
        let (user, hostport) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u.to_string()), h),
            None => (None, authority),
        };
        let (host, port) = split_port(hostport)?;
        if host.is_empty() {
            return Err(format!("no host in {url}"));
        }
        Ok(SshTarget {
            user,
            host: host.to_string(),
            port,
        })
    }

    /// The arguments of `ssh` that run `docker system dial-stdio` on the target.
    pub(crate) fn args(&self) -> Vec<String> {
        let mut a = vec![
            "-o".to_string(),
            "ConnectTimeout=30".to_string(),
            "-T".into(),
        ];
        if let Some(u) = &self.user {
            a.extend(["-l".to_string(), u.clone()]);
        }
        if let Some(p) = self.port {
            a.extend(["-p".to_string(), p.to_string()]);
        }
        a.extend(["--".to_string(), self.host.clone()]);
        a.extend(["docker", "system", "dial-stdio"].map(String::from));
        a
    }
}

/// `host[:port]`, with `[v6]` brackets.
fn split_port(s: &str) -> Result<(&str, Option<u16>), String> {
    let (host, port) = if let Some(rest) = s.strip_prefix('[') {
        let (h, after) = rest
            .split_once(']')
            .ok_or_else(|| format!("unclosed [ in {s:?}"))?;
        (h, after.strip_prefix(':'))
    } else {
        match s.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (s, None),
        }
    };
    let port = port
        .map(|p| p.parse::<u16>().map_err(|_| format!("invalid port {p:?}")))
        .transpose()?;
    Ok((host, port))
}

/// A bollard client whose every connection is a fresh `ssh ... docker system dial-stdio`.
/// `stderr` keeps what ssh said last, for the error when the engine cannot be reached.
pub(crate) fn connect(
    target: SshTarget,
    timeout: u64,
    version: &ClientVersion,
    stderr: Arc<Mutex<String>>,
) -> Result<Docker, bollard::errors::Error> {
    let connector = Dialer {
        args: Arc::new(target.args()),
        stderr,
    };
    super::transport::over(connector, "http://docker.ssh".into(), timeout, version)
}

/// What ssh wrote on its standard error, once it has (it may still be writing when the
/// connection fails): `None` when it said nothing within a moment.
pub(crate) async fn said(stderr: &Mutex<String>) -> Option<String> {
    for _ in 0..20 {
        if let Some(s) = stderr.lock().ok().filter(|s| !s.is_empty()) {
            return Some(s.clone());
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    None
}

/// Starts one `ssh` child per connection.
#[derive(Clone)]
struct Dialer {
    args: Arc<Vec<String>>,
    stderr: Arc<Mutex<String>>,
}

impl tower_service::Service<hyper::Uri> for Dialer {
    type Response = Pipe;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<Pipe>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: hyper::Uri) -> Self::Future {
        let (args, said) = (self.args.clone(), self.stderr.clone());
        Box::pin(async move {
            let mut child = Command::new("ssh")
                .args(args.iter())
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .kill_on_drop(true)
                .spawn()
                .map_err(|e| io::Error::new(e.kind(), format!("cannot run ssh: {e}")))?;
            let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
                return Err(io::Error::other("ssh's standard streams were not piped"));
            };
            if let Some(mut err) = child.stderr.take() {
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let _ = err.read_to_end(&mut buf).await;
                    let text = String::from_utf8_lossy(&buf).trim().to_string();
                    if !text.is_empty() {
                        if let Ok(mut s) = said.lock() {
                            *s = text;
                        }
                    }
                });
            }
            Ok(Pipe(TokioIo::new(Streams {
                _child: child,
                stdin: Some(stdin),
                stdout,
            })))
        })
    }
}

/// One connection: writes go to ssh's standard input, reads come from its standard output.
struct Pipe(TokioIo<Streams>);

/// The child and its two streams (standard input is dropped, so closed, on shutdown: the
/// remote end then sees the half-close an `exec` with input ends with).
struct Streams {
    _child: Child,
    stdin: Option<ChildStdin>,
    stdout: ChildStdout,
}

impl Streams {
    fn stdin(&mut self) -> io::Result<Pin<&mut ChildStdin>> {
        self.stdin
            .as_mut()
            .map(Pin::new)
            .ok_or_else(|| io::ErrorKind::BrokenPipe.into())
    }
}

impl Connection for Pipe {
    fn connected(&self) -> Connected {
        Connected::new()
    }
}

impl hyper::rt::Read for Pipe {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_read(cx, buf)
    }
}

impl hyper::rt::Write for Pipe {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().0).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_shutdown(cx)
    }
}

impl AsyncRead for Streams {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stdout).poll_read(cx, buf)
    }
}

impl AsyncWrite for Streams {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut().stdin() {
            Ok(w) => w.poll_write(cx, buf),
            Err(e) => Poll::Ready(Err(e)),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut().stdin() {
            Ok(w) => w.poll_flush(cx),
            Err(_) => Poll::Ready(Ok(())),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if let Ok(w) = this.stdin() {
            if let Poll::Ready(Err(e)) = w.poll_flush(cx) {
                return Poll::Ready(Err(e));
            }
        }
        this.stdin = None;
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_read_as_the_docker_cli_reads_them() {
        let t = SshTarget::parse("ssh://me@box.example:2222").expect("parses");
        assert_eq!(t.user.as_deref(), Some("me"));
        assert_eq!((t.host.as_str(), t.port), ("box.example", Some(2222)));
        assert_eq!(
            t.args().join(" "),
            "-o ConnectTimeout=30 -T -l me -p 2222 -- box.example docker system dial-stdio"
        );
        let t = SshTarget::parse("ssh://[::1]:22").expect("v6");
        assert_eq!((t.host.as_str(), t.port, t.user), ("::1", Some(22), None));
        let t = SshTarget::parse("ssh://box").expect("bare");
        assert_eq!(
            t.args().join(" "),
            "-o ConnectTimeout=30 -T -- box docker system dial-stdio"
        );
        assert!(SshTarget::parse("ssh://box/var/run").is_err());
        assert!(SshTarget::parse("ssh://box:http").is_err());
        assert!(SshTarget::parse("ssh://").is_err());
    }
}
