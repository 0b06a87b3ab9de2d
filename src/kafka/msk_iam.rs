//! IAM authentication to Amazon MSK (provisioned and Serverless): SASL/OAUTHBEARER with a token
//! that is a SigV4-signed `kafka-cluster:Connect` URL, made by `aws-msk-iam-sasl-signer` from the
//! AWS credential chain (`aws-config`: environment, web identity, ECS/EKS, IMDS, profile). In
//! Lambda the function's role supplies the credentials.
//!
//! librdkafka asks for a token when the producer starts and again at 80 % of the token's
//! lifetime (15 minutes), so a token is always refreshed before it expires. A token is a bearer
//! credential: it is never logged.

use std::time::Duration;

use aws_credential_types::provider::SharedCredentialsProvider;
use aws_types::region::Region;
use rdkafka::client::OAuthToken;

/// How long one token request (credentials and signing) may take.
const TOKEN_TIMEOUT: Duration = Duration::from_secs(10);

/// What librdkafka reports as the token's principal: MSK takes the identity from the signature.
const PRINCIPAL: &str = "msk-iam";

/// The token source of one producer.
#[derive(Clone)]
pub struct MskIam {
    region: Region,
    /// Fixed credentials instead of the AWS chain (tests only).
    credentials: Option<SharedCredentialsProvider>,
}

impl std::fmt::Debug for MskIam {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MskIam")
            .field("region", &self.region.as_ref())
            .finish_non_exhaustive()
    }
}

impl MskIam {
    /// Tokens for the cluster in `region`, from the AWS credential chain.
    pub fn new(region: &str) -> Self {
        MskIam {
            region: Region::new(region.to_owned()),
            credentials: None,
        }
    }

    /// Tokens from the given credentials instead of the chain.
    pub fn with_credentials(region: &str, credentials: SharedCredentialsProvider) -> Self {
        MskIam {
            region: Region::new(region.to_owned()),
            credentials: Some(credentials),
        }
    }

    async fn sign(&self) -> Result<(String, i64), String> {
        let signed = match &self.credentials {
            None => aws_msk_iam_sasl_signer::generate_auth_token(self.region.clone()).await,
            Some(provider) => {
                aws_msk_iam_sasl_signer::generate_auth_token_from_credentials_provider(
                    self.region.clone(),
                    provider.clone(),
                )
                .await
            }
        };
        signed.map_err(|e| format!("MSK IAM token not made: {e}"))
    }

    /// A fresh token. Called by librdkafka on a thread of its own, outside any Tokio runtime:
    /// the signing runs on a short-lived thread with a runtime of its own, bounded in time.
    pub fn token(&self) -> Result<OAuthToken, String> {
        let source = self.clone();
        let signed = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| format!("MSK IAM token not made: no runtime: {e}"))?;
            runtime.block_on(async {
                tokio::time::timeout(TOKEN_TIMEOUT, source.sign())
                    .await
                    .map_err(|_| {
                        format!(
                            "MSK IAM token not made within {} s (AWS credentials unreachable?)",
                            TOKEN_TIMEOUT.as_secs()
                        )
                    })?
            })
        })
        .join()
        .map_err(|_| "MSK IAM token not made: the signing thread panicked".to_owned())??;
        let (token, lifetime_ms) = signed;
        let seconds_left = (lifetime_ms - now_ms()) / 1000;
        tracing::info!(
            region = self.region.as_ref(),
            seconds_left,
            "MSK IAM token refreshed"
        );
        Ok(OAuthToken {
            token,
            principal_name: PRINCIPAL.to_owned(),
            lifetime_ms,
        })
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_credential_types::Credentials;
    use base64::Engine;

    const ACCESS_KEY: &str = "AKIDEXAMPLE0000TEST";
    const SECRET_KEY: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    const SESSION_TOKEN: &str = "session-token-example";

    fn fixed() -> MskIam {
        MskIam::with_credentials(
            "eu-west-1",
            SharedCredentialsProvider::new(Credentials::from_keys(
                ACCESS_KEY,
                SECRET_KEY,
                Some(SESSION_TOKEN.to_owned()),
            )),
        )
    }

    /// The signed URL inside a token, and its query parameters.
    fn decode(token: &str) -> (url::Url, Vec<(String, String)>) {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(token)
            .expect("a token is unpadded base64url");
        let url = url::Url::parse(std::str::from_utf8(&bytes).unwrap()).unwrap();
        let query = url.query_pairs().into_owned().collect();
        (url, query)
    }

    fn param<'a>(query: &'a [(String, String)], name: &str) -> &'a str {
        query
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("no {name} in {query:?}"))
    }

    #[test]
    fn a_token_is_a_presigned_connect_url_for_the_region() {
        let before = now_ms();
        let token = fixed().token().unwrap();
        assert_eq!(token.principal_name, PRINCIPAL);
        let (url, query) = decode(&token.token);
        assert_eq!(url.scheme(), "https");
        assert_eq!(url.host_str(), Some("kafka.eu-west-1.amazonaws.com"));
        assert_eq!(param(&query, "Action"), "kafka-cluster:Connect");
        assert_eq!(param(&query, "X-Amz-Algorithm"), "AWS4-HMAC-SHA256");
        let credential = param(&query, "X-Amz-Credential");
        assert!(
            credential.starts_with(&format!("{ACCESS_KEY}/"))
                && credential.ends_with("/eu-west-1/kafka-cluster/aws4_request"),
            "{credential}"
        );
        assert_eq!(param(&query, "X-Amz-Expires"), "900");
        assert_eq!(param(&query, "X-Amz-Security-Token"), SESSION_TOKEN);
        assert_eq!(param(&query, "X-Amz-SignedHeaders"), "host");
        let signature = param(&query, "X-Amz-Signature");
        assert_eq!(signature.len(), 64);
        assert!(signature.bytes().all(|b| b.is_ascii_hexdigit()));
        assert!(param(&query, "User-Agent").starts_with("aws-msk-iam-sasl-signer"));
        // The secret key signs; it never travels.
        assert!(!token.token.contains(SECRET_KEY));
        assert!(!url.as_str().contains(SECRET_KEY));

        // It expires 15 minutes after it was signed (X-Amz-Date has whole seconds).
        let left = token.lifetime_ms - before;
        assert!((899_000..=901_000).contains(&left), "{left} ms");
    }

    #[test]
    fn each_refresh_signs_anew_and_lives_longer() {
        let source = fixed();
        let first = source.token().unwrap();
        std::thread::sleep(Duration::from_millis(1100));
        let second = source.token().unwrap();
        assert_ne!(first.token, second.token);
        assert!(second.lifetime_ms >= first.lifetime_ms + 1000);
        let (_, a) = decode(&first.token);
        let (_, b) = decode(&second.token);
        assert_ne!(param(&a, "X-Amz-Date"), param(&b, "X-Amz-Date"));
    }

    #[test]
    fn no_credentials_is_an_error_not_a_hang() {
        #[derive(Debug)]
        struct Nothing;
        impl aws_credential_types::provider::ProvideCredentials for Nothing {
            fn provide_credentials<'a>(
                &'a self,
            ) -> aws_credential_types::provider::future::ProvideCredentials<'a>
            where
                Self: 'a,
            {
                aws_credential_types::provider::future::ProvideCredentials::ready(Err(
                    aws_credential_types::provider::error::CredentialsError::not_loaded(
                        "no credentials here",
                    ),
                ))
            }
        }
        let source = MskIam::with_credentials("eu-west-1", SharedCredentialsProvider::new(Nothing));
        let Err(error) = source.token() else {
            panic!("a token without credentials")
        };
        assert!(error.contains("MSK IAM token not made"), "{error}");
        assert!(!format!("{source:?}").contains("Nothing"));
    }
}
