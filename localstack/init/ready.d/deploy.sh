#!/usr/bin/env bash
# LocalStack init hook (ready stage): deploys kafka-producer as a Lambda function with a
# function URL, from the zip that `cargo lambda build --output-format zip` wrote on the host,
# then sends one API Gateway HTTP API event (events/apigw-http-api-v2.json) as a smoke test.
# Runs inside the LocalStack container, where `awslocal` is installed. Safe to run again:
#   docker compose -f localstack/docker-compose.yml exec localstack /etc/localstack/init/ready.d/deploy.sh
set -euo pipefail

name=${FUNCTION_NAME:-kafka-producer}
zip=${FUNCTION_ZIP:-/opt/kafka-producer/bootstrap.zip}
arch=${FUNCTION_ARCH:-x86_64}
bootstrap=${FUNCTION_KAFKA_BOOTSTRAP_SERVERS:-kafka:9092}
role_name=kafka-producer-lambda

log() { printf 'deploy.sh: %s\n' "$*"; }

if [ ! -f "$zip" ]; then
  log "no $zip: build it on the host first (cargo lambda build --release --output-format zip), then run"
  log "  docker compose -f localstack/docker-compose.yml exec localstack /etc/localstack/init/ready.d/deploy.sh"
  exit 1
fi

role_arn=$(awslocal iam get-role --role-name "$role_name" --query Role.Arn --output text 2>/dev/null) ||
  role_arn=$(awslocal iam create-role --role-name "$role_name" \
    --assume-role-policy-document '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}' \
    --query Role.Arn --output text)

if awslocal lambda get-function --function-name "$name" >/dev/null 2>&1; then
  log "replacing the existing function $name"
  awslocal lambda delete-function --function-name "$name"
fi

environment=$(printf '{"Variables":{"KAFKA_BOOTSTRAP_SERVERS":"%s","APP_ENV":"production","LOG_FORMAT":"json","AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH":"true"}}' "$bootstrap")

log "creating $name ($arch, provided.al2023) from $zip, Kafka at $bootstrap"
awslocal lambda create-function \
  --function-name "$name" \
  --runtime provided.al2023 \
  --handler bootstrap \
  --architectures "$arch" \
  --memory-size 512 \
  --timeout 15 \
  --role "$role_arn" \
  --environment "$environment" \
  --zip-file "fileb://$zip" \
  --output text --query FunctionArn
awslocal lambda wait function-active-v2 --function-name "$name"

url=$(awslocal lambda create-function-url-config --function-name "$name" --auth-type NONE \
  --query FunctionUrl --output text)
awslocal lambda add-permission --function-name "$name" --statement-id public-url \
  --action lambda:InvokeFunctionUrl --principal '*' --function-url-auth-type NONE >/dev/null

event=/opt/events/apigw-http-api-v2.json
if [ -f "$event" ]; then
  log "smoke test: invoking with $event"
  awslocal lambda invoke --function-name "$name" --payload "fileb://$event" /tmp/kafka-producer-out.json >/dev/null
  log "answer: $(cat /tmp/kafka-producer-out.json)"
fi

log "function URL: $url"
log "try: curl -s ${url}api/v1/send -d '{\"topic\":\"lambda-events\",\"key\":\"k1\",\"message\":\"hello\"}'"
