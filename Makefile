# sasscan: top-level entry points. See README.md.
#
#   make demo            the main job: boot the lab and show what it finds
#   make check           every test (what CI runs)
#   make stress          the reliability suite's full profile
#   make bench           rescan cost vs the minimum [BENCH_PROFILE=full|reduced]
#   make kernel|guest|vsas|initramfs|vm  [VARIANT=stock|fixed|...] [CASES='glob,...']

VARIANT ?= stock
CASES ?= lab_*
BENCH_PROFILE ?= full
TIMEOUT ?= 600
SASSCAN_CACHE ?= $(HOME)/.cache/sasscan
SASSCAN_WORK ?= $(SASSCAN_CACHE)
export SASSCAN_CACHE SASSCAN_WORK
PY := python3

.PHONY: all demo check bench deps kernel guest vsas modules initramfs prepare vm clean
all: check

deps:
	@lab/deps.sh

kernel: deps
	@lab/kernel.sh $(VARIANT)

guest: deps
	@mkdir -p $(SASSCAN_WORK)/guest
	@$(MAKE) -s -C guest OUT=$(SASSCAN_WORK)/guest $(SASSCAN_WORK)/guest/init

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

# make check KERNEL=<bzImage> KBUILD=<build or headers tree> MODULES=<modules dir>
# runs vsas and the matrix on that kernel instead (lab/external-kernel.sh).
check: deps
	@$(PY) lab/check.py $(if $(KERNEL)$(KBUILD)$(MODULES),--kernel '$(KERNEL)' --kbuild '$(KBUILD)' --modules '$(MODULES)')

# Issue 7: the reliability suite's full profile (docs/reliability.md)
.PHONY: stress
stress: deps
	@for v in stock multichannel scanstart fixed; do $(MAKE) -s prepare VARIANT=$$v || exit 1; done
	@$(PY) lab/reliability.py --profile full

# Issue 8: rescan cost vs the minimum (docs/bench.md); results/bench.{md,json}
bench: deps
	@for v in stock multichannel scanstart fixed; do $(MAKE) -s prepare VARIANT=$$v || exit 1; done
	@$(PY) lab/bench.py --profile $(BENCH_PROFILE)

# Issue 9: DKMS, Debian's prebuilt kernel, the on-host runner's QEMU test
.PHONY: dkms-check debian-kernel demo-debian onhost-vmtest
dkms-check: deps
	@lab/dkms-check.sh
debian-kernel: guest
	@lab/debian-kernel.sh
demo-debian: deps
	@$(PY) lab/check.py --debian --profile $(or $(PROFILE),full)
onhost-vmtest: debian-kernel
	@lab/onhost-vmtest.sh

clean:
	rm -rf results
