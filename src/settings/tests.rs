//! Settings from variable maps: sources, priorities and the errors that name their setting.

use super::kafka::appsettings_bootstrap;
use super::*;
use crate::kafka::Given;

fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn defaults_to_the_embedded_cluster_in_development() {
    let s = Settings::from_vars(&vars(&[]), None).unwrap();
    assert_eq!(s.bootstrap, Bootstrap::Embedded);
    assert_eq!(s.port, 8080);
    assert_eq!(s.runtime, RuntimeKind::Server);
    assert!(!s.log_json);
}

#[test]
fn bootstrap_sources_in_priority_order() {
    let s = Settings::from_vars(
        &vars(&[("Kafka__BootstrapServers", "a:1")]),
        Some("f:3".into()),
    )
    .unwrap();
    assert_eq!(
        s.bootstrap,
        Bootstrap::Servers(Given::new("a:1", "Kafka__BootstrapServers"))
    );
    let s = Settings::from_vars(
        &vars(&[
            ("KAFKA_BOOTSTRAP_SERVERS", "b:2"),
            ("Kafka__BootstrapServers", "a:1"),
        ]),
        None,
    )
    .unwrap();
    assert_eq!(
        s.bootstrap,
        Bootstrap::Servers(Given::new("b:2", "KAFKA_BOOTSTRAP_SERVERS"))
    );
    let s = Settings::from_vars(&vars(&[]), Some("f:3".into())).unwrap();
    assert_eq!(
        s.bootstrap,
        Bootstrap::Servers(Given::new("f:3", "Kafka:BootstrapServers"))
    );
}

#[test]
fn production_and_lambda_refuse_the_embedded_cluster() {
    let err = Settings::from_vars(&vars(&[("APP_ENV", "production")]), None).unwrap_err();
    assert_eq!(err.setting, "KAFKA_BOOTSTRAP_SERVERS");
    let err =
        Settings::from_vars(&vars(&[("ASPNETCORE_ENVIRONMENT", "Production")]), None).unwrap_err();
    assert_eq!(err.setting, "KAFKA_BOOTSTRAP_SERVERS");
    let err = Settings::from_vars(&vars(&[("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001")]), None)
        .unwrap_err();
    assert_eq!(err.setting, "KAFKA_BOOTSTRAP_SERVERS");
    assert!(err.to_string().contains("Lambda"));
}

#[test]
fn bad_values_name_their_setting() {
    for (name, value) in [
        ("PORT", "eighty"),
        ("PORT", "70000"),
        ("SHUTDOWN_TIMEOUT_MS", "-1"),
        ("MAX_BODY_BYTES", "0"),
        ("LOG_FORMAT", "xml"),
        ("KAFKA_BOOTSTRAP_SERVERS", "localhost"),
        ("Kafka__BootstrapServers", "a:1,b"),
        ("KAFKA_PLAIN_BOOTSTRAP_SERVERS", "a:1"),
        ("OTEL_TRACES_EXPORTER", "zipkin"),
        ("MSK_IAM", "yes"),
    ] {
        let err = Settings::from_vars(&vars(&[(name, value)]), None).unwrap_err();
        assert_eq!(err.setting, name, "{name}={value}");
    }
}

#[test]
fn kafka_variables_become_librdkafka_properties() {
    let s = Settings::from_vars(
        &vars(&[
            ("KAFKA_SECURITY_PROTOCOL", "SASL_SSL"),
            ("KAFKA_LINGER_MS", "10"),
            ("KAFKA_PLAIN_ACKS", "0"),
            ("KAFKA_IDEMPOTENT_MESSAGE_TIMEOUT_MS", "9000"),
            ("KAFKA_BOOTSTRAP_SERVERS", "k:9092"),
            ("KAFKA_PORT", "tcp://10.0.0.1:9092"),
            ("KAFKA_PORT_9092_TCP_ADDR", "10.0.0.1"),
            ("KAFKA_SERVICE_HOST", "10.0.0.1"),
        ]),
        None,
    )
    .unwrap();
    let values = |given: &BTreeMap<String, Given>| -> BTreeMap<String, String> {
        given
            .iter()
            .map(|(k, g)| (k.clone(), g.value.clone()))
            .collect()
    };
    assert_eq!(
        values(&s.kafka.common),
        vars(&[("security.protocol", "SASL_SSL"), ("linger.ms", "10")])
    );
    assert_eq!(values(&s.kafka.plain), vars(&[("acks", "0")]));
    assert_eq!(
        values(&s.kafka.idempotent),
        vars(&[("message.timeout.ms", "9000")])
    );
    assert_eq!(s.kafka.plain["acks"].origin, "KAFKA_PLAIN_ACKS");
}

#[test]
fn appsettings_file_is_read_with_its_environment_variant() {
    let dir = std::env::temp_dir().join(format!("kp-settings-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("appsettings.json"),
        r#"{"Kafka":{"BootstrapServers":"base:9092"}}"#,
    )
    .unwrap();
    std::fs::write(
        dir.join("appsettings.K8s.json"),
        r#"{"Kafka":{"BootstrapServers":"kafka:9092"}}"#,
    )
    .unwrap();
    let none = appsettings_bootstrap(&dir, &vars(&[])).unwrap();
    assert_eq!(none.as_deref(), Some("base:9092"));
    let k8s = appsettings_bootstrap(&dir, &vars(&[("ASPNETCORE_ENVIRONMENT", "K8s")])).unwrap();
    assert_eq!(k8s.as_deref(), Some("kafka:9092"));
    std::fs::write(dir.join("appsettings.json"), "{not json").unwrap();
    let err = appsettings_bootstrap(&dir, &vars(&[])).unwrap_err();
    assert_eq!(err.setting, "appsettings.json");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn span_export_follows_the_standard_otel_variables() {
    let export =
        |pairs: &[(&str, &str)]| Settings::from_vars(&vars(pairs), None).map(|s| s.trace_export);
    assert_eq!(export(&[]), Ok(TraceExport::Off));
    let collector = Some("http://collector:4318".to_owned());
    assert_eq!(
        export(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318")]),
        Ok(TraceExport::Otlp {
            endpoint: collector.clone(),
            service_name: "kafka-producer".into()
        })
    );
    assert_eq!(
        export(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://other:4318"),
            (
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                "http://collector:4318"
            ),
            ("OTEL_SERVICE_NAME", "orders-gateway"),
        ]),
        Ok(TraceExport::Otlp {
            endpoint: collector,
            service_name: "orders-gateway".into()
        })
    );
    assert_eq!(
        export(&[("OTEL_TRACES_EXPORTER", "otlp")]),
        Ok(TraceExport::Otlp {
            endpoint: None,
            service_name: "kafka-producer".into()
        })
    );
    for off in [
        ("OTEL_SDK_DISABLED", "true"),
        ("OTEL_TRACES_EXPORTER", "none"),
    ] {
        assert_eq!(
            export(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"), off]),
            Ok(TraceExport::Off),
            "{off:?}"
        );
    }
    let grpc = export(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4317"),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
    ])
    .unwrap_err();
    assert_eq!(grpc.setting, "OTEL_EXPORTER_OTLP_PROTOCOL");
}

#[test]
#[cfg(feature = "msk-iam")]
fn msk_iam_needs_a_region() {
    let region = |pairs: &[(&str, &str)]| {
        Settings::from_vars(&vars(pairs), None).map(|s| s.msk_iam_region.map(|g| g.value))
    };
    assert_eq!(region(&[]), Ok(None));
    assert_eq!(
        region(&[("MSK_IAM", "false"), ("AWS_REGION", "eu-west-1")]),
        Ok(None)
    );
    let missing = region(&[("MSK_IAM", "true")]).unwrap_err();
    assert_eq!(missing.setting, "MSK_IAM_REGION");
    assert_eq!(
        region(&[("MSK_IAM", "true"), ("AWS_REGION", "eu-west-1")]),
        Ok(Some("eu-west-1".into()))
    );
    assert_eq!(
        region(&[
            ("MSK_IAM", "true"),
            ("AWS_REGION", "eu-west-1"),
            ("MSK_IAM_REGION", "us-east-2")
        ]),
        Ok(Some("us-east-2".into()))
    );
}
