{{/* The name every object of a release shares; the webhook's Service DNS
     name (<fullname>.<namespace>.svc) is in its serving certificate.
     Release "sluice" gives sluice-control. */}}
{{- define "sluice.fullname" -}}
{{- if contains "sluice-control" .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else if contains "sluice" .Release.Name -}}
{{- printf "%s-control" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-sluice-control" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "sluice.labels" -}}
app.kubernetes.io/name: sluice-control
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "sluice.selectorLabels" -}}
app.kubernetes.io/name: sluice-control
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "sluice.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}

{{- define "sluice.sidecarImage" -}}
{{- $repo := .Values.sidecar.image.repository | default .Values.image.repository -}}
{{- $tag := .Values.sidecar.image.tag | default .Values.image.tag | default .Chart.AppVersion -}}
{{- printf "%s:%s" $repo $tag -}}
{{- end -}}

{{- define "sluice.caSecret" -}}
{{- .Values.ca.rootSecret | default (printf "%s-ca-root" (include "sluice.fullname" .)) -}}
{{- end -}}

{{- define "sluice.webhookSecret" -}}
{{- .Values.injection.certSecret | default (printf "%s-webhook-tls" (include "sluice.fullname" .)) -}}
{{- end -}}
