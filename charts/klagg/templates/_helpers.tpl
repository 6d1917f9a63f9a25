{{- define "klagg.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "klagg.operatorName" -}}
{{- printf "%s-operator" (include "klagg.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "klagg.selectorLabels" -}}
app.kubernetes.io/name: klagg-operator
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "klagg.labels" -}}
{{ include "klagg.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: klagg
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "klagg.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "klagg.operatorName" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "klagg.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* Restricted container security context (Pod Security Standard "restricted"). */}}
{{- define "klagg.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: ["ALL"]
{{- end -}}

{{- define "klagg.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end -}}
