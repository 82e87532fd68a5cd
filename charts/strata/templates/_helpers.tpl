{{/* Names and labels. */}}
{{- define "strata.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "strata.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "strata.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* strata.labels: common labels; pass (dict "root" $ "component" "warmer"). */}}
{{- define "strata.labels" -}}
helm.sh/chart: {{ include "strata.chart" .root }}
app.kubernetes.io/name: {{ include "strata.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
{{- with .component }}
app.kubernetes.io/component: {{ . }}
{{- end }}
{{- end -}}

{{- define "strata.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "strata.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "strata.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{- define "strata.cacheClaimName" -}}
{{- default (printf "%s-cache" (include "strata.fullname" .)) .Values.cache.persistence.existingClaim -}}
{{- end -}}

{{/*
strata.podSpecCommon: the pod-level fields every pod of the chart shares: service account,
pull secrets, scheduling (the component's own nodeSelector/tolerations/affinity, else the
top-level ones), pod security context. Pass (dict "root" $ "c" .Values.<component>).
*/}}
{{- define "strata.podSpecCommon" -}}
{{- $root := .root -}}
serviceAccountName: {{ include "strata.serviceAccountName" $root }}
automountServiceAccountToken: {{ $root.Values.serviceAccount.automountServiceAccountToken }}
{{- with $root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $root.Values.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- with (default $root.Values.nodeSelector .c.nodeSelector) }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with (default $root.Values.tolerations .c.tolerations) }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with (default $root.Values.affinity .c.affinity) }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- /* RuntimeDefault seccomp unless podSecurityContext says otherwise. */}}
  {{- toYaml (merge (deepCopy $root.Values.podSecurityContext) (dict "seccompProfile" (dict "type" "RuntimeDefault"))) | nindent 2 }}
{{- end -}}

{{- define "strata.podMetadata" -}}
labels:
  {{- include "strata.labels" (dict "root" .root "component" .component) | nindent 2 }}
  {{- with .root.Values.podLabels }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- with .root.Values.podAnnotations }}
annotations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/*
strata.executorSecurityContext: the executor container's securityContext. in-place: the
runtime's default capabilities, nothing added, never privileged ("baseline"). chroot: adds
SYS_ADMIN only (unshare of mount/PID namespaces, mount, pivot_root), plus the AppArmor profile
the value names, because the runtime's default profile denies mount(2).
The executor runs as root in both modes: it unpacks images with their owners and modes.
*/}}
{{- define "strata.executorSecurityContext" -}}
privileged: false
runAsUser: 0
runAsGroup: 0
{{- if eq .Values.isolation.mode "chroot" }}
capabilities:
  add: ["SYS_ADMIN"]
{{- with .Values.isolation.chroot.appArmorProfile }}
appArmorProfile:
  type: {{ . }}
{{- end }}
{{- end }}
{{- end -}}

{{/*
strata.toolSecurityContext: warmer and cachectl only read and write files in the cache volume:
no capability at all, no privilege escalation, read-only root file system.
*/}}
{{- define "strata.toolSecurityContext" -}}
privileged: false
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: ["ALL"]
{{- end -}}

{{- define "strata.env" -}}
- name: DOCKER_CONFIG
  value: {{ .Values.registryCredentials.mountPath | quote }}
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Volumes: the cache claim, the credentials Secret (when named), a scratch /tmp. */}}
{{- define "strata.cacheVolume" -}}
- name: cache
  persistentVolumeClaim:
    claimName: {{ include "strata.cacheClaimName" . }}
{{- end -}}

{{- define "strata.credentialsVolume" -}}
{{- with .Values.registryCredentials.secretName }}
- name: registry-credentials
  secret:
    secretName: {{ . }}
    defaultMode: 0400
    items:
      - key: {{ $.Values.registryCredentials.key }}
        path: config.json
{{- end }}
{{- end -}}

{{- define "strata.credentialsMount" -}}
{{- if .Values.registryCredentials.secretName }}
- name: registry-credentials
  mountPath: {{ .Values.registryCredentials.mountPath }}
  readOnly: true
{{- end }}
{{- end -}}

{{/* strata.cachectlContainer: the body of a cachectl container (after its name). */}}
{{- define "strata.cachectlContainer" -}}
{{- $root := .root -}}
image: {{ include "strata.image" $root }}
imagePullPolicy: {{ $root.Values.image.pullPolicy }}
command: ["/kaniko/cachectl"]
args:
  {{- toYaml .args | nindent 2 }}
{{- with $root.Values.extraEnv }}
env:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- include "strata.toolSecurityContext" $root | nindent 2 }}
{{- with $root.Values.cachectl.resources }}
resources:
  {{- toYaml . | nindent 2 }}
{{- end }}
volumeMounts:
  - name: cache
    mountPath: {{ $root.Values.cache.mountPath }}
  - name: tmp
    mountPath: /tmp
{{- end -}}
