# sasscan: top-level entry points. See README.md.
#
#   make demo            the main job: boot the lab and show what it finds
#   make check           every test (what CI runs)
#   make kernel|guest|vsas|initramfs|vm  [VARIANT=stock|fixed|...] [CASES='glob,...']

VARIANT ?= stock
CASES ?= lab_*
TIMEOUT ?= 600
SASSCAN_CACHE ?= $(HOME)/.cache/sasscan
export SASSCAN_CACHE
PY := python3

.PHONY: all demo check deps kernel guest vsas modules initramfs prepare vm clean
all: check

deps:
	@lab/deps.sh

kernel: deps
	@lab/kernel.sh $(VARIANT)

guest: deps
	@mkdir -p $(SASSCAN_CACHE)/guest
	@$(MAKE) -s -C guest OUT=$(SASSCAN_CACHE)/guest $(SASSCAN_CACHE)/guest/init

# vsas and the lab's self-test module, built against $(VARIANT)'s kernel
vsas modules: kernel
	@lab/modules.sh $(VARIANT)

initramfs: kernel guest modules
	@lab/initramfs.sh $(VARIANT)

prepare: initramfs

vm: prepare
	@$(PY) lab/vm.py --variant $(VARIANT) --cases '$(CASES)' --timeout $(TIMEOUT)

demo: deps
	@$(PY) lab/check.py --demo

check: deps
	@$(PY) lab/check.py

clean:
	rm -rf results
