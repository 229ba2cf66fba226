# One entry point for the project's commands; `./help` lists them in the order you use them.
SHELL := /bin/bash
PYTHON ?= python3.11
PIPENV_VERSION := 2026.10.3
RUN := bin/run
export PIPENV_VENV_IN_PROJECT := 1
export PIPENV_VERBOSITY := -1
export PIPENV_NOSPIN := 1
export PIPENV_YES := 1

.PHONY: install adopt synth test cost diagram docs addresses bench mutate list diff deploy-local deploy-local-all clean terraform-config run-task

## install: Python deps (pipenv, from Pipfile.lock), the cdktf CLI and Node.js 22 (package-lock.json),
##          checkov and moto in their own venvs, CDK Terrain (cdktn, its AWS bindings and CLI) in
##          .cdktn/, and the project-local Terraform CLI config (the five installs run side by
##          side: each is mostly download and unpacking)
install:
	@$(MAKE) --no-print-directory -j5 .venv/.installed node_modules/.installed \
	  .tools/checkov/.installed .tools/moto/.installed .cdktn/.installed
	@$(MAKE) --no-print-directory terraform-config

.venv/.installed: Pipfile Pipfile.lock
	@$(PYTHON) -m pipenv --version >/dev/null 2>&1 || $(PYTHON) -m pip install --user --quiet pipenv==$(PIPENV_VERSION)
	$(PYTHON) -m pipenv sync --dev
	@# Bytecode for `python -O`, which main.py runs under (pip writes only the plain kind): without
	@# it, every synth would compile the bindings again wherever PYTHONDONTWRITEBYTECODE is set.
	.venv/bin/python -O -m compileall -q -j 0 .venv/lib lib stacks >/dev/null
	@touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@$(RUN) node -e 'process.exit(+process.versions.node.split(".")[0] >= 22 ? 0 : 1)' || \
	  { echo "jsii needs Node.js 22 or 24; none came with npm ci for this platform and the machine's is $$(node --version)"; exit 1; }
	@touch $@

.tools/checkov/.installed: tools/checkov-requirements.txt
	$(PYTHON) -m venv .tools/checkov
	.tools/checkov/bin/pip install --quiet --disable-pip-version-check -r tools/checkov-requirements.txt
	@touch $@

.tools/moto/.installed: tools/moto-requirements.txt
	$(PYTHON) -m venv .tools/moto
	.tools/moto/bin/pip install --quiet --disable-pip-version-check -r tools/moto-requirements.txt
	@touch $@

# The fork's own environment (README, "CDK Terrain (cdktn)"): the runtime of PLATFORM_CDK=cdktn
# (bin/run), and what the comparison test (tests/test_cdktn.py) synthesizes with on every run.
.cdktn/.installed: tools/cdktn/requirements.txt tools/cdktn/package.json tools/cdktn/package-lock.json
	$(PYTHON) -m venv .cdktn/venv
	.cdktn/venv/bin/pip install --quiet --disable-pip-version-check -r tools/cdktn/requirements.txt
	.cdktn/venv/bin/python -O -m compileall -q -j 0 .cdktn/venv/lib >/dev/null
	cp tools/cdktn/package.json tools/cdktn/package-lock.json .cdktn/
	npm ci --prefix .cdktn --no-audit --no-fund --loglevel=error
	@touch $@

# Runs every time: it depends on $$PLATFORM_PROVIDER_MIRROR and on what the machine has.
terraform-config:
	@$(PYTHON) tools/terraform_cli_config.py

## adopt: start config/ from a preset: make adopt PRESET=portfolio PROJECT=acme ACCOUNT=210987654321
##        [DOMAIN=acme.com ZONE=<its Route 53 zone id>] [REPOSITORY=owner/name]: writes
##        config/{dev,staging,prod,account}.toml (one project and account, dev disposable, no
##        preset domain), redraws docs/architecture.md, prints the next commands
adopt: .venv/.installed node_modules/.installed
	$(RUN) python tools/adopt.py --preset "$(PRESET)" --project "$(PROJECT)" --account "$(ACCOUNT)" \
	  --domain "$(DOMAIN)" --zone "$(ZONE)" --repository "$(REPOSITORY)"

## synth: validate config/*.toml and write every stack to cdktf.out/
synth: install
	$(RUN) python main.py
	@echo "synthesized: $$(ls cdktf.out/stacks | tr '\n' ' ')"

## test: the whole suite: config errors, construct properties, AWS contracts, terraform validate,
##       offline plans, checkov, the local deploy cycles of dev, prod, lean and portfolio,
##       every stack on CDK Terrain compared with the default and validated
test: install
	$(RUN) python -m pytest

## cost: monthly estimate per stack (config/, bootstrap, examples/) from pricing/us-east-1.toml,
##       opening with a summary (stack, total, budget, verdict); fails when a stack is over its
##       cost.monthly_budget_usd. One file: make cost CONFIG=examples/portfolio.toml.
##       JSON for CI: bin/run python tools/cost.py --json
cost: install
	$(RUN) python tools/cost.py $(CONFIG)

## diagram: docs/architecture.md, Mermaid per environment, drawn from the synthesized JSON
diagram: install
	$(RUN) python tools/diagram.py

## docs: README.md's config reference, generated from the schema (lib/config) and the profiles
##       (needs only the Python deps; `make test` fails while the committed one is stale)
docs: .venv/.installed
	$(RUN) python tools/config_reference.py

## addresses: rewrite tests/stateful_addresses.json, the pinned Terraform address of every stateful
##            resource per stack, after a change that moves or removes one on purpose (README,
##            "Stateful resources"; `make test` fails while it differs from the synthesized stacks)
addresses: .venv/.installed node_modules/.installed
	$(RUN) python -m pytest -q -p no:cacheprovider tests/test_stateful.py::test_stateful_addresses_are_pinned --write-stateful-addresses

## bench: time `python main.py` as shipped, in one process, and with the documented import style
bench: install
	$(RUN) python tools/bench.py

## mutate: apply each security- or money-relevant mutation of tools/mutate.py to a scratch copy and
##         run the fast suite on it; prints caught/missed, fails unless every one is caught
##         (not part of `make test`: one fast-suite run per mutation, two at a time)
mutate: install
	$(RUN) python tools/mutate.py

## deploy-local: moto on 127.0.0.1, cdktf deploy, an empty second plan, destroy, of one file:
##               config/dev.toml, or CONFIG=path/to/env.toml; one line per step, and on a
##               failure one line saying why and whose (README, "Local deploy")
deploy-local: install
	$(RUN) python tools/deploy_local.py $(or $(CONFIG),config/dev.toml)

## run-task: run a deployed one-off task and wait for it: make run-task TASK=migrate ENV=dev;
##           prints its exit code, why it stopped and its log stream, and fails with its exit
##           code (README, "One-off tasks"; needs AWS credentials for ENV's account)
run-task: .venv/.installed node_modules/.installed
	$(RUN) python tools/run_task.py "$(ENV)" "$(TASK)"

## deploy-local-all: the same cycle for dev, prod and every preset, side by side (4 at a time,
##                   DEPLOY_LOCAL_JOBS), one line per stack
deploy-local-all: install
	$(RUN) python tools/deploy_local.py --all

## list / diff: the cdktf CLI (diff needs AWS credentials, or PLATFORM_TARGET=offline)
list: install
	$(RUN) cdktf list
diff: install
	$(RUN) cdktf diff $(STACK)

## clean: remove synth output and installed tooling (not your Terraform state files)
clean:
	rm -rf cdktf.out .venv node_modules .tools .cdktn .terraformrc .terraform-plugin-cache
