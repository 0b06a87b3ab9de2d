//! The 4xx contract: bad input and the access rules and limits, each refusal with its status and
//! problem body, and nothing produced. On the embedded cluster (librdkafka's mock cluster, in
//! this process), so plain `cargo test` runs it with no broker to start; the records that must
//! not exist are looked for on that cluster.

mod access;
mod bad_input;

mod embedded {
    use std::sync::OnceLock;

    use kafka_producer::kafka::embedded::EmbeddedKafka;

    /// One cluster for the whole binary, started by the first test that asks.
    pub fn bootstrap() -> String {
        static CLUSTER: OnceLock<EmbeddedKafka> = OnceLock::new();
        CLUSTER
            .get_or_init(|| EmbeddedKafka::start(3).expect("the embedded cluster starts"))
            .bootstrap_servers()
            .to_owned()
    }
}
