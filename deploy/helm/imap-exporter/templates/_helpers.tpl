{{/* The release's objects are named after the release, trimmed to DNS-label length. */}}
{{- define "imap-exporter.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "imap-exporter.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* part-of: the label the ServiceMonitor selects on, as in deploy/kubernetes. */}}
{{- define "imap-exporter.labels" -}}
{{ include "imap-exporter.selectorLabels" . }}
app.kubernetes.io/part-of: imap-exporter
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "imap-exporter.credentialsSecret" -}}
{{- default (printf "%s-credentials" (include "imap-exporter.fullname" .)) .Values.credentials.existingSecret -}}
{{- end -}}

{{- define "imap-exporter.configMap" -}}
{{- default (printf "%s-config" (include "imap-exporter.fullname" .)) .Values.existingConfigMap -}}
{{- end -}}

{{- define "imap-exporter.webConfigSecret" -}}
{{- default (printf "%s-web-config" (include "imap-exporter.fullname" .)) .Values.webConfig.existingSecret -}}
{{- end -}}
