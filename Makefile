# Container and cluster shortcuts. The compose targets use `docker compose` (v2) when present, else the v1
# `docker-compose`; override with `make COMPOSE="docker-compose" ...`. With podman: `make DOCKER=podman ...` builds
# with podman itself, and compose talks to podman's Docker API (DOCKER_HOST, see docker/README.md).

IMAGE ?= polyrole:latest
DOCKER ?= docker
# NODE_IMAGE replaces the Dockerfile's Node 24 base, e.g. a local stand-in (docker/stand-ins/node-base.sh).
NODE_IMAGE ?=
# podman writes OCI images by default, which drop the Dockerfile's HEALTHCHECK: it is asked for Docker's format.
BUILD_FLAGS ?= $(if $(filter podman,$(notdir $(DOCKER))),--format docker) \
  $(if $(NODE_IMAGE),--build-arg NODE_IMAGE=$(NODE_IMAGE))
COMPOSE ?= $(shell docker compose version >/dev/null 2>&1 && echo "docker compose" || echo docker-compose)
# One or more compose files, e.g. COMPOSE_FILE="docker-compose.yml docker-compose.clients.yml".
COMPOSE_FILE ?= docker-compose.yml
COMPOSE_FILES = $(addprefix -f ,$(COMPOSE_FILE))
# Longer than the roles' stop_grace_period (15 s = SHUTDOWN_GRACE_MS + 5 s), so a stop never cuts a drain short.
STOP_TIMEOUT ?= 20
KUBECTL ?= kubectl
NAMESPACE ?= polyrole

.PHONY: docker-image docker-compose-up docker-compose-down docker-compose-logs k8s-apply k8s-delete clients

docker-image:
	$(DOCKER) build $(BUILD_FLAGS) -f docker/Dockerfile -t $(IMAGE) .

docker-compose-up: docker-image
	POLYROLE_IMAGE=$(IMAGE) $(COMPOSE) $(COMPOSE_FILES) up -d

# Graceful first: SIGTERM and up to STOP_TIMEOUT seconds to drain, then remove containers and the network. Echo
# clients started from `make clients` are orphans of docker-compose.yml: removed too, or the network stays in use.
# The named PostgreSQL volume is kept; `$(COMPOSE) down -v` drops it.
docker-compose-down:
	$(COMPOSE) $(COMPOSE_FILES) stop -t $(STOP_TIMEOUT)
	$(COMPOSE) $(COMPOSE_FILES) down --remove-orphans

docker-compose-logs:
	$(COMPOSE) $(COMPOSE_FILES) logs -f --tail=200

# `make clients N=5` (or `make clients 5`): writes CLIENTS_FILE, a compose override with N more echo clients with
# distinct ids; start them with `$(COMPOSE) -f docker-compose.yml -f docker-compose.clients.yml up -d`.
N ?= $(word 2,$(MAKECMDGOALS))
CLIENTS_FILE ?= docker-compose.clients.yml
clients:
	node docker/compose-clients.mjs $(N) -o $(CLIENTS_FILE)

# The Secret comes from k8s/secrets.env, which is never committed (copy k8s/secrets.env.example).
# A Job's pod template is immutable, so the finished Jobs are deleted before each apply (the certs Job keeps what
# it made and issues only what is missing).
k8s-apply: k8s/secrets.env
	$(KUBECTL) -n $(NAMESPACE) delete job echo-client certs --ignore-not-found
	$(KUBECTL) apply -k k8s/

# Deletes the namespace and everything in it, the PostgreSQL volume claim included.
k8s-delete: k8s/secrets.env
	$(KUBECTL) delete -k k8s/ --ignore-not-found

k8s/secrets.env:
	@echo "k8s/secrets.env is missing: cp k8s/secrets.env.example k8s/secrets.env and fill it in" >&2; exit 1

# Lets `make clients 5` pass the count as a goal without make trying to build a target named 5.
ifeq (clients,$(firstword $(MAKECMDGOALS)))
%:
	@:
endif
