# Strata's runtime image: executor, warmer and cachectl, laid out like kaniko's (debug) image so
# that kaniko's pod specs and CI templates work unchanged. docs/kubernetes.md explains the layout.
#
# The build context is not this repository: scripts/build-image.sh stages one (the built
# binaries, the shared libraries ldd lists for them, busybox, CA certificates) and builds this
# file with Strata's own executor into an OCI layout:
#
#   bash scripts/build-image.sh --build-dir build --oci-layout-path strata-oci
#
# Layout (everything the tools need lives under /kaniko, which the executor never overwrites,
# so an --isolation=in-place build that unpacks a base image onto / cannot break them):
#   /kaniko/executor, /kaniko/warmer, /kaniko/cachectl   the tools
#   /kaniko/lib/            their shared libraries and the dynamic loader; the binaries' ELF
#                           interpreter and RPATH point here (patchelf), nothing is read from /lib
#   /kaniko/bin/            docker-credential-* helpers (empty: add yours in a derived image);
#                           first on PATH, so a helper named in config.json is found here first
#   /kaniko/.docker/        DOCKER_CONFIG: mount the registry credentials (config.json) here
#   /kaniko/ssl/certs/      CA bundle (also at /etc/ssl/certs/ca-certificates.crt, libcurl's default)
#   /busybox/               a static busybox and its applets, for CI runners that need a shell
#                           (GitLab CI, Jenkins' container step)
#   /workspace              the default --context
FROM scratch

# A shell and the usual tools first: the layer changes least often.
COPY busybox/ /busybox/
COPY etc/ /etc/
COPY dirs/ /

# The shared libraries (from the build machine, as ldd lists them) and the CA bundle.
COPY kaniko/lib/ /kaniko/lib/
COPY kaniko/ssl/ /kaniko/ssl/
COPY kaniko/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt

# The tools last: they change with every commit.
COPY kaniko/executor kaniko/warmer kaniko/cachectl /kaniko/

ENV PATH=/kaniko/bin:/kaniko:/busybox:/usr/local/bin:/usr/bin:/bin \
    HOME=/root \
    USER=root \
    DOCKER_CONFIG=/kaniko/.docker \
    SSL_CERT_DIR=/kaniko/ssl/certs \
    SSL_CERT_FILE=/kaniko/ssl/certs/ca-certificates.crt
LABEL org.opencontainers.image.title="strata" \
      org.opencontainers.image.description="Daemonless image builds: executor, warmer, cachectl"
WORKDIR /workspace
ENTRYPOINT ["/kaniko/executor"]
