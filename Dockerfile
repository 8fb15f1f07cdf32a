# syntax=docker/dockerfile:1
# Sluice's image: sluice (sidecar, gateway, and its `sluice iptables`
# init step) and sluice-control, on Debian 12.
#
#   docker build -t sluice:dev .
#
# The build stage runs the same scripts as the tests and CI
# (scripts/install-deps, scripts/build): there is no other build recipe to
# drift. The runtime stage holds the two binaries, the proxy's gRPC module,
# the shared libraries they link (tests/packaging/dockerfile_test.sh checks
# this list against ldd of the built files, so a new library cannot be
# missed), iptables for the capture step, and no compiler.

FROM debian:bookworm AS build
# npm: scripts/install-deps fetches the pinned npm packages the build
# compiles protos from; Debian's nodejs does not bring it.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ca-certificates npm \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN scripts/install-deps
RUN scripts/build --target sluice
RUN scripts/build --target sluice-control

FROM debian:bookworm-slim AS runtime
# Runtime libraries, one package per line, as dpkg names them.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libabsl20220623 \
      libc-ares2 \
      libc6 \
      libgcc-s1 \
      libgrpc++1.51 \
      libgrpc29 \
      libhiredis0.14 \
      libnghttp2-14 \
      libprometheus-cpp-core1.0 \
      libprotobuf32 \
      libre2-9 \
      libssl3 \
      libstdc++6 \
      libyaml-cpp0.7 \
      zlib1g \
      iptables \
 && rm -rf /var/lib/apt/lists/*
# The sidecar runs as 1337, the uid its traffic capture lets through; the
# control plane as another non-root uid (the chart's runAsUser).
RUN groupadd --gid 1337 sluice \
 && useradd --uid 1337 --gid 1337 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin sluice \
 && groupadd --gid 1338 sluice-control \
 && useradd --uid 1338 --gid 1338 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin sluice-control
COPY --from=build /src/build/bin/sluice /src/build/bin/sluice-control /usr/local/bin/
# The proxy's gRPC side (ADS and CA clients), loaded from ../lib/sluice/
# beside the binary only by a bootstrap that needs it.
COPY --from=build /src/build/lib/sluice/sluice-grpc.so /usr/local/lib/sluice/
USER 1337:1337
CMD ["sluice", "--help"]
