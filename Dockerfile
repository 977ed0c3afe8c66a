# syntax=docker/dockerfile:1
# The image that the Kubernetes Job of `commgraph sweep --emit k8s` runs:
# one static commgraph binary (the DRAM traces, memspecs and shipped optima
# are embedded in it) and the experiment files under /work/configs. Results
# go to /work/runs, where the Job mounts its PersistentVolumeClaim.
#
#   docker build --build-arg COMMIT=$(git rev-parse HEAD) -t commgraph:latest .
#   docker run --rm commgraph:latest version

# Build stage: a pure-Go static binary (no cgo; the default matrix kernels
# are Go assembly, the OpenBLAS build tag is not used here).
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG COMMIT=""
RUN CGO_ENABLED=0 go build -trimpath -buildvcs=false \
    -ldflags="-s -w -X main.vcsCommit=${COMMIT}" \
    -o /out/commgraph ./cmd/commgraph \
 && /out/commgraph version

# Run stage: nothing but the binary, the configs and CA certificates; a
# non-root user whose group (fsGroup in the Job) may write the volume.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/commgraph /usr/local/bin/commgraph
COPY --chown=65532:65532 configs /work/configs
WORKDIR /work
USER 65532:65532
ENTRYPOINT ["commgraph"]
CMD ["--help"]
