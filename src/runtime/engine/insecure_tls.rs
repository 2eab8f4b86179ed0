//! TLS without checking the engine's certificate, as the docker CLI does for `--tls` without
//! `--tlsverify` and for a context with `SkipTLSVerify`: the connection is encrypted, the
//! engine's certificate is not checked against a CA, and the client certificate is presented
//! when there is one (engines that demand it still check it).

use std::path::Path;
use std::sync::Arc;

use bollard::{ClientVersion, Docker};
use hyper_util::client::legacy::connect::HttpConnector;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

/// A client for `tcp://` or `https://` `host` over TLS that accepts any engine certificate;
/// `client` is the certificate and key to present, when both files exist.
pub(crate) fn connect(
    host: &str,
    client: Option<(&Path, &Path)>,
    timeout: u64,
    version: &ClientVersion,
) -> Result<Docker, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyEngine(provider)));
    let config = match client {
        Some((cert, key)) => {
            let certs = CertificateDer::pem_file_iter(cert)
                .and_then(|i| i.collect::<Result<Vec<_>, _>>())
                .map_err(|e| format!("cannot read {}: {e}", cert.display()))?;
            let key = PrivateKeyDer::from_pem_file(key)
                .map_err(|e| format!("cannot read {}: {e}", key.display()))?;
            builder
                .with_client_auth_cert(certs, key)
                .map_err(|e| e.to_string())?
        }
        None => builder.with_no_client_auth(),
    };
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    let https = hyper_rustls::HttpsConnector::from((http, config));
    let addr = host
        .strip_prefix("tcp://")
        .or_else(|| host.strip_prefix("https://"))
        .unwrap_or(host);
    super::transport::over(https, format!("https://{addr}"), timeout, version)
        .map_err(|e| e.to_string())
}

/// Accepts every engine certificate; handshake signatures are still checked, so the engine
/// holds the key of the certificate it shows.
#[derive(Debug)]
struct AnyEngine(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyEngine {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
