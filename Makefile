# Task runner. `make test` is the whole suite (it installs what it needs); `make check`
# runs the readiness check against localhost. See README.md.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
ROOT := $(CURDIR)
VENV := $(ROOT)/.venv
BIN := $(VENV)/bin
COLLECTIONS := $(ROOT)/build/collections
LINK := $(COLLECTIONS)/ansible_collections/coco/sev_snp
PYTHON ?= python3

export PATH := $(BIN):$(PATH)
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export ANSIBLE_ROLES_PATH := $(ROOT)/roles
export ANSIBLE_REMOTE_TMP := /root/.ansible/tmp
export ANSIBLE_PYTHON_INTERPRETER := auto_silent
export ANSIBLE_FORCE_COLOR := 0
export ANSIBLE_NOCOLOR := 1
export CONTAINERS_CONF := $(ROOT)/molecule/resources/containers.conf
export PY_COLORS := 0
export NO_COLOR := 1
# The VM scenario's disk image is cached outside the checkout (SEV_SNP_VM_CACHE, default
# ~/.cache/coco-sev-snp), so fresh clones on the same machine reuse it.
LIBVIRT_IMAGE_PACKAGES := libpam-systemd libvirt-daemon-system libvirt-clients libvirt-daemon-driver-qemu \
	qemu-system-x86 ovmf python3-libvirt python3-lxml libxml2-utils

APT_PACKAGES := podman runc debootstrap qemu-system-x86 qemu-utils fdisk libxml2-utils \
	rsync uidmap slirp4netns fuse-overlayfs e2fsprogs openssh-client dosfstools \
	ca-certificates conmon golang-github-containernetworking-plugin-dnsname shellcheck chromium ovmf

SCENARIOS ?= default suse check libvirt vm attest bios operator

.PHONY: help deps apt venv link images unit lint sanity molecule molecule-run molecule-destroy print-scenarios test check bench bench-check bench-fleet clean mutation

help:
	@echo "make check     readiness report for localhost (changes nothing)"
	@echo "make test      the whole suite: units, lint, sanity, molecule scenarios"
	@echo "make unit | lint | sanity | molecule | bench [TRANSPORT=ssh] | bench-check | bench-fleet | mutation"

apt:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

$(BIN)/.installed: requirements-test.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -U pip wheel
	$(BIN)/pip install -q --disable-pip-version-check -r requirements-test.txt
	touch $@

venv: $(BIN)/.installed

link:
	@mkdir -p $(dir $(LINK))
	@[ -L $(LINK) ] || ln -sfn $(ROOT) $(LINK)

deps: apt venv link

unit: venv link
	$(BIN)/pytest -q tests/unit

lint: venv link
	$(BIN)/ansible-lint --profile production

sanity: venv
	scripts/sanity.sh

# Documentation lint + site (build/docsite), release tarball check, lowest ansible-core.
.PHONY: docs release compat
docs: venv link
	scripts/docs.sh

release: venv
	scripts/release.sh

compat: venv link
	scripts/compat.sh

# Local test images, built side by side: two podman images (debootstrap + podman import)
# and the vm scenario's QEMU disk; each cached and rebuilt only when its recipe changes.
images: apt
	molecule/resources/build-all.sh $(LIBVIRT_IMAGE_PACKAGES)

molecule: deps images
	$(MAKE) --no-print-directory molecule-run

# The scenarios one after another, without the dependency and image checks (scripts/suite.sh
# runs those once, then the vm scenario beside the others).
molecule-run:
	BIN=$(BIN) scripts/molecule-run.sh $(SCENARIOS)

molecule-destroy:
	for s in $(SCENARIOS); do $(BIN)/molecule destroy -s $$s || true; done

print-scenarios:
	@echo $(SCENARIOS)

# The controller's own Python runs the module on localhost (interpreter discovery can pick
# a broken shim on some machines).
check: venv link
	$(BIN)/ansible-playbook -i localhost, -c local \
	  -e 'ansible_python_interpreter={{ ansible_playbook_python }}' playbooks/check_host.yml

# Mutation testing of the decision code (not part of `make test`: about half an hour on two
# cores). FILES= limits it to some module_utils files; survivors are explained in tests/mutation/.
FILES ?=
mutation: venv link
	$(BIN)/python scripts/mutation.py --jobs 2 $(FILES)

# On the same hosts: the one-task floor, check_host, enable_host first run and re-run, and the
# literal chapter playbook (baseline), each as a ratio to the floor and with its CPU seconds;
# the fastest of three runs each. TRANSPORT=podman (podman exec) or ssh (sshd in each container
# on a loopback port, with ControlPersist and pipelining); BENCH_ARGS=, e.g. "--repeat 1" or
# "--hosts 5 --forks 5".
TRANSPORT ?= podman
BENCH_ARGS ?=
bench: deps images
	scripts/bench_enable_host.py --transport $(TRANSPORT) $(BENCH_ARGS)

# check_host against the chapter's checks typed one task each.
bench-check: deps images
	scripts/bench_check_host.py --transport $(TRANSPORT) $(BENCH_ARGS)

# Controller only: fleet_report and host_gate over 1,000 and 10,000 synthetic hosts.
FLEET_ARGS ?=
bench-fleet: venv link
	$(BIN)/python scripts/bench_fleet.py $(FLEET_ARGS)

# The whole suite: units, lint, sanity, docs, release, compat and every scenario, the vm
# scenario running beside the rest (scripts/suite.sh says why that is the same test).
test:
	scripts/suite.sh

clean:
	rm -rf build .cache
