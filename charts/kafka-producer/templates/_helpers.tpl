{{/*
The chart's name, or nameOverride: the app.kubernetes.io/name label.
*/}}
{{- define "kafka-producer.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The name of every object: fullnameOverride, else the release name, with the chart's name
appended unless the release name already contains it (release "kafka-producer" gives
"kafka-producer", the names of k8s/). 63 characters at most (DNS label).
*/}}
{{- define "kafka-producer.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Chart name and version, for the helm.sh/chart label.
*/}}
{{- define "kafka-producer.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels of every object.
*/}}
{{- define "kafka-producer.labels" -}}
helm.sh/chart: {{ include "kafka-producer.chart" . }}
app.kubernetes.io/name: {{ include "kafka-producer.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- if .Chart.AppVersion }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/*
Labels that select the pods (Deployment, Service, PodDisruptionBudget, spread constraints,
ServiceMonitor). Selectors cannot change after creation, so they must equal those of k8s/ for the
objects named as in k8s/ (fullname "kafka-producer"): the name alone. Any other release also
selects on app.kubernetes.io/instance, so that two releases in one namespace never select each
other's pods; the release named like k8s/ shares its selector with k8s/ and cannot share a
namespace with another release of this chart.
*/}}
{{- define "kafka-producer.selectorLabels" -}}
app.kubernetes.io/name: {{ include "kafka-producer.name" . }}
{{- if ne (include "kafka-producer.fullname" .) (include "kafka-producer.name" .) }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}
{{- end }}

{{/*
Labels of the pods: the selector labels, app.kubernetes.io/instance always (metadata only), and
podLabels.
*/}}
{{- define "kafka-producer.podLabels" -}}
{{- $labels := include "kafka-producer.selectorLabels" . | fromYaml }}
{{- $_ := set $labels "app.kubernetes.io/instance" .Release.Name }}
{{- toYaml (merge $labels (deepCopy .Values.podLabels)) }}
{{- end }}

{{/*
The image: repository@digest, or repository:tag.
*/}}
{{- define "kafka-producer.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (toString .Values.image.tag) }}
{{- end }}
{{- end }}

{{/*
The Secret of SASL/librdkafka settings the pods read (optional unless it is existingSecret).
*/}}
{{- define "kafka-producer.credentialsSecretName" -}}
{{- .Values.kafka.credentials.existingSecret | default (printf "%s-kafka-credentials" (include "kafka-producer.fullname" .)) }}
{{- end }}

{{/*
The Secret of API keys the pods mount (optional unless it is existingSecret).
*/}}
{{- define "kafka-producer.apiKeysSecretName" -}}
{{- .Values.apiKeys.existingSecret | default (printf "%s-api-keys" (include "kafka-producer.fullname" .)) }}
{{- end }}

{{/*
Annotations of the pod template: podAnnotations, and the ConfigMap's checksum when
rolloutOnConfigChange is on. Empty when there are none.
*/}}
{{- define "kafka-producer.podAnnotations" -}}
{{- $annotations := deepCopy .Values.podAnnotations }}
{{- if .Values.rolloutOnConfigChange }}
{{- $_ := set $annotations "checksum/config" (include (print $.Template.BasePath "/configmap.yaml") . | sha256sum) }}
{{- end }}
{{- with $annotations }}
{{- toYaml . }}
{{- end }}
{{- end }}

{{/*
The container's parts that the Deployment and the Knative Service share: image, settings,
mounts, resources, security context.
*/}}
{{- define "kafka-producer.containerCommon" -}}
image: {{ include "kafka-producer.image" . | quote }}
imagePullPolicy: {{ .Values.image.pullPolicy }}
envFrom:
  - configMapRef:
      name: {{ include "kafka-producer.fullname" . }}
  - secretRef:
      name: {{ include "kafka-producer.credentialsSecretName" . }}
      {{- if not .Values.kafka.credentials.existingSecret }}
      optional: true
      {{- end }}
  {{- with .Values.extraEnvFrom }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
# API keys, read from a file so they stay out of the environment; API_KEYS_FILE
# (apiKeys.enabled) turns them on.
volumeMounts:
  - name: api-keys
    mountPath: {{ .Values.apiKeys.mountPath }}
    readOnly: true
{{- with .Values.resources }}
resources:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.securityContext }}
securityContext:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/*
The pod's volumes that the Deployment and the Knative Service share.
*/}}
{{- define "kafka-producer.volumes" -}}
volumes:
  - name: api-keys
    secret:
      secretName: {{ include "kafka-producer.apiKeysSecretName" . }}
      {{- if not .Values.apiKeys.existingSecret }}
      optional: true
      {{- end }}
{{- end }}

{{/*
The pod's scheduling settings that are set only when given.
*/}}
{{- define "kafka-producer.scheduling" -}}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/*
One probe: GET path on port, with the timings of the values (without "enabled").
Arguments: a dict of probe (the values), path and port.
*/}}
{{- define "kafka-producer.probe" -}}
httpGet:
  path: {{ .path }}
  port: {{ .port }}
{{ toYaml (omit .probe "enabled") }}
{{- end }}

{{/*
Combinations of values that the schema cannot refuse, refused with a message. Rendered (as
nothing) by the ConfigMap, which every mode has.
*/}}
{{- define "kafka-producer.validate" -}}
{{- $shutdown := int64 .Values.config.shutdownTimeoutMs }}
{{- if not .Values.knative.enabled }}
{{- $grace := mul (int64 .Values.terminationGracePeriodSeconds) 1000 }}
{{- $before := mul (int64 .Values.preStopSleepSeconds) 1000 }}
{{- if ge (add $before $shutdown) $grace }}
{{- fail (printf "preStopSleepSeconds (%d s) + config.shutdownTimeoutMs (%d ms) must stay below terminationGracePeriodSeconds (%d s): the kubelet would kill the process while it flushes queued records" (int64 .Values.preStopSleepSeconds) $shutdown (int64 .Values.terminationGracePeriodSeconds)) }}
{{- end }}
{{- if and .Values.autoscaling.enabled (gt (int64 .Values.autoscaling.minReplicas) (int64 .Values.autoscaling.maxReplicas)) }}
{{- fail "autoscaling.minReplicas must not exceed autoscaling.maxReplicas" }}
{{- end }}
{{- else }}
{{- /* Knative gives a terminating pod the revision's timeoutSeconds as its grace period. */}}
{{- if ge $shutdown (mul (int64 .Values.knative.timeoutSeconds) 1000) }}
{{- fail (printf "config.shutdownTimeoutMs (%d ms) must stay below knative.timeoutSeconds (%d s), the grace period Knative gives a terminating pod" $shutdown (int64 .Values.knative.timeoutSeconds)) }}
{{- end }}
{{- end }}
{{- if .Values.readinessProbe.enabled }}
{{- if ge (int64 .Values.config.readinessTimeoutMs) (mul (int64 .Values.readinessProbe.timeoutSeconds) 1000) }}
{{- fail "config.readinessTimeoutMs must stay below readinessProbe.timeoutSeconds: /health/ready answers only after waiting that long for the cluster" }}
{{- end }}
{{- end }}
{{- if and .Values.knative.enabled (gt (int64 .Values.knative.autoscaling.minScale) (int64 .Values.knative.autoscaling.maxScale)) (gt (int64 .Values.knative.autoscaling.maxScale) 0) }}
{{- fail "knative.autoscaling.minScale must not exceed knative.autoscaling.maxScale (0: no limit)" }}
{{- end }}
{{- if and .Values.knative.enabled .Values.serviceMonitor.enabled }}
{{- fail "serviceMonitor scrapes the chart's Service, which knative.enabled replaces: turn one of them off" }}
{{- end }}
{{- if and .Values.kafka.credentials.enabled .Values.kafka.credentials.existingSecret }}
{{- fail "kafka.credentials: set enabled (the chart creates the Secret) or existingSecret (a Secret of your own), not both" }}
{{- end }}
{{- if and .Values.apiKeys.enabled (not .Values.apiKeys.existingSecret) (not .Values.apiKeys.keys) }}
{{- fail "apiKeys.enabled needs apiKeys.keys (entries name:key[:topics]) or apiKeys.existingSecret" }}
{{- end }}
{{- end }}
