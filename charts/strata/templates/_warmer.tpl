{{/*
strata.warmerPodSpec: the warmer pod, shared by the Job and the CronJob. One warmer run per
input: the images list in one run, then one run per Dockerfile (--dockerfile takes one file).
They run one after another as init containers, the last one as the pod's container, so that a
failure stops the pod with the failing input's name.
*/}}
{{- define "strata.warmerPodSpec" -}}
{{- $root := . -}}
{{- $w := .Values.warmer -}}
{{- $runs := list -}}
{{- if $w.images -}}
{{- $args := list (printf "--cache-dir=%s" .Values.cache.mountPath) (printf "--cache-ttl=%s" .Values.cache.ttl) -}}
{{- range $w.images }}{{ $args = append $args (printf "--image=%s" .) }}{{ end -}}
{{- $runs = append $runs (dict "name" "warm-images" "args" $args) -}}
{{- end -}}
{{- range $w.dockerfiles -}}
{{- $args := list (printf "--cache-dir=%s" $root.Values.cache.mountPath) (printf "--cache-ttl=%s" $root.Values.cache.ttl) (printf "--dockerfile=/warmer/dockerfiles/%s" .name) -}}
{{- range .buildArgs }}{{ $args = append $args (printf "--build-arg=%s" .) }}{{ end -}}
{{- $runs = append $runs (dict "name" (printf "warm-%s" .name | trunc 63 | trimSuffix "-") "args" $args) -}}
{{- end -}}
{{- $common := list (printf "--parallel-downloads=%d" (int $w.parallelDownloads)) -}}
{{- if $w.force }}{{ $common = append $common "--force" }}{{ end -}}
{{- with $w.customPlatform }}{{ $common = append $common (printf "--custom-platform=%s" .) }}{{ end -}}
{{- $common = concat $common $w.extraArgs -}}
{{- include "strata.podSpecCommon" (dict "root" $root "c" $w) }}
restartPolicy: Never
{{- if gt (len $runs) 1 }}
initContainers:
{{- range (initial $runs) }}
{{- include "strata.warmerContainer" (dict "root" $root "run" . "common" $common) | nindent 2 }}
{{- end }}
{{- end }}
containers:
{{- include "strata.warmerContainer" (dict "root" $root "run" (last $runs) "common" $common) | nindent 2 }}
volumes:
  {{- include "strata.cacheVolume" . | nindent 2 }}
  {{- with (include "strata.credentialsVolume" . | trim) }}{{ . | nindent 2 }}{{ end }}
  - name: tmp
    emptyDir: {}
  {{- if $w.dockerfiles }}
  - name: dockerfiles
    configMap:
      name: {{ include "strata.fullname" . }}-warmer-dockerfiles
  {{- end }}
{{- end -}}

{{- define "strata.warmerContainer" -}}
{{- $root := .root -}}
- name: {{ .run.name }}
  image: {{ include "strata.image" $root }}
  imagePullPolicy: {{ $root.Values.image.pullPolicy }}
  command: ["/kaniko/warmer"]
  args:
    {{- toYaml (concat .run.args .common) | nindent 4 }}
  env:
    {{- include "strata.env" $root | nindent 4 }}
  securityContext:
    {{- include "strata.toolSecurityContext" $root | nindent 4 }}
  {{- with $root.Values.warmer.resources }}
  resources:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  volumeMounts:
    - name: cache
      mountPath: {{ $root.Values.cache.mountPath }}
    {{- with (include "strata.credentialsMount" $root | trim) }}{{ . | nindent 4 }}{{ end }}
    - name: tmp
      mountPath: /tmp
    {{- if $root.Values.warmer.dockerfiles }}
    - name: dockerfiles
      mountPath: /warmer/dockerfiles
      readOnly: true
    {{- end }}
{{- end -}}
