# Container and cluster shortcuts. The compose targets use `docker compose` (v2) when present, else the v1
# `docker-compose`; override with `make COMPOSE="docker-compose" ...`.

IMAGE ?= polyrole:latest
COMPOSE ?= $(shell docker compose version >/dev/null 2>&1 && echo "docker compose" || echo docker-compose)
COMPOSE_FILE ?= docker-compose.yml
# Longer than the roles' stop_grace_period (15 s = SHUTDOWN_GRACE_MS + 5 s), so a stop never cuts a drain short.
STOP_TIMEOUT ?= 20
KUBECTL ?= kubectl
NAMESPACE ?= polyrole

.PHONY: docker-image docker-compose-up docker-compose-down docker-compose-logs k8s-apply k8s-delete clients

docker-image:
	docker build -f docker/Dockerfile -t $(IMAGE) .

docker-compose-up: docker-image
	POLYROLE_IMAGE=$(IMAGE) $(COMPOSE) -f $(COMPOSE_FILE) up -d

# Graceful first: SIGTERM and up to STOP_TIMEOUT seconds to drain, then remove containers and the network.
# The named PostgreSQL volume is kept; `$(COMPOSE) down -v` drops it.
docker-compose-down:
	$(COMPOSE) -f $(COMPOSE_FILE) stop -t $(STOP_TIMEOUT)
	$(COMPOSE) -f $(COMPOSE_FILE) down

docker-compose-logs:
	$(COMPOSE) -f $(COMPOSE_FILE) logs -f --tail=200

# `make clients N=5` (or `make clients 5`): N more echo clients with distinct ids.
N ?= $(word 2,$(MAKECMDGOALS))
clients:
	node docker/compose-clients.mjs $(N)

# The Secret comes from k8s/secrets.env, which is never committed (copy k8s/secrets.env.example).
# A Job's pod template is immutable, so the finished echo-client Job is deleted before each apply.
k8s-apply: k8s/secrets.env
	$(KUBECTL) -n $(NAMESPACE) delete job echo-client --ignore-not-found
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
