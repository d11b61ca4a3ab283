# sasscan: top-level entry points. See README.md.
#
#   make demo            the main job: every variant's matrix side by side [PROFILE=full]
#   make test            the fast tier: judges on saved logs, lint, sanitizers (no VM)
#   make check           every test CI runs (the fast tier first)
#   make check-full      the exhaustive runs: full matrix, reliability and bench
#   make stress          the reliability suite's full profile
#   make bench           rescan cost vs the minimum [BENCH_PROFILE=full|reduced]
#   make kernel|guest|vsas|initramfs|vm  [VARIANT=stock|fixed|...] [CASES='glob,...']
#   make series-check|config-matrix      [LINE=7.3|6.12|6.1]
#   make dkms-deb        the DKMS package for Debian's own kernels (docs/dkms.md)
#   make demo-debian [LINE=6.12|6.1] [DKMS=1]
#                        Debian's prebuilt kernel, as shipped or with the package
#   make series AUTHOR='Name <mail>' KTREE=<7.3 git tree> [BRANCH=...]
#                        the series under the submitter's own sign-off
#
# LINE selects the kernel line (Debian's linux-source-<line>): 7.3 (default,
# the fix series in patches/), 6.12 or 6.1 (backports in patches/linux-<line>.y/).

VARIANT ?= stock
PROFILE ?= reduced
CASES ?= lab_*
BENCH_PROFILE ?= full
TIMEOUT ?= 600
SASSCAN_CACHE ?= $(HOME)/.cache/sasscan
SASSCAN_WORK ?= $(SASSCAN_CACHE)
SASSCAN_LINE ?= 7.3
LINE ?= $(SASSCAN_LINE)
SASSCAN_LINE := $(LINE)
export SASSCAN_CACHE SASSCAN_WORK SASSCAN_LINE
PY := python3

.PHONY: all demo test check check-full bench deps kernel guest vsas modules initramfs prepare vm clean
.PHONY: series-check config-matrix series
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
	@$(PY) lab/check.py --demo --profile $(PROFILE)

# The fix series of LINE: git am, then build and boot after every patch
series-check: deps guest
	@lab/series-check.sh $(LINE)

# The 0-day-style build matrix of LINE's series (CONFIGS=quick|full)
CONFIGS ?= quick
config-matrix: deps
	@lab/config-matrix.sh --configs $(CONFIGS) $(LINE)

test:
	@lab/fast-test.sh

# make check KERNEL=<bzImage> KBUILD=<build or headers tree> MODULES=<modules dir>
# runs vsas and the matrix on that kernel instead (lab/external-kernel.sh).
check: deps
	@$(PY) lab/check.py $(if $(filter full,$(CONFIGS)),--configs full) $(if $(KERNEL)$(KBUILD)$(MODULES),--kernel '$(KERNEL)' --kbuild '$(KBUILD)' --modules '$(MODULES)')

# The exhaustive runs, beyond CI's budget (docs/lab.md)
check-full: deps
	@$(MAKE) -s check CONFIGS=full
	@$(MAKE) -s demo PROFILE=full
	@$(MAKE) -s stress
	@$(MAKE) -s bench BENCH_PROFILE=full

# The reliability suite's full profile (docs/reliability.md)
.PHONY: stress
stress: deps
	@for v in stock multichannel scanstart fixed; do $(MAKE) -s prepare VARIANT=$$v || exit 1; done
	@$(PY) lab/reliability.py --profile full --out results

# Rescan cost vs the minimum (docs/bench.md)
bench: deps
	@for v in stock multichannel scanstart fixed; do $(MAKE) -s prepare VARIANT=$$v || exit 1; done
	@$(PY) lab/bench.py --profile $(BENCH_PROFILE) $(if $(filter full,$(BENCH_PROFILE)),--out results)

# DKMS, Debian's prebuilt kernel, the on-host runner's QEMU test
.PHONY: dkms-check dkms-deb debian-kernel demo-debian onhost-vmtest
# sasscan-dkms_<version>_all.deb for Debian's own kernels (docs/dkms.md)
dkms-deb:
	@dkms/build-deb.sh out/dkms
dkms-check: deps
	@lab/dkms-check.sh
debian-kernel: guest
	@SASSCAN_LINE=6.12 lab/debian-kernel.sh
# make demo-debian [LINE=6.12|6.1] [DKMS=1]: Debian's prebuilt kernel of LINE,
# as shipped or with sasscan-dkms installed (docs/dkms.md, "In the lab")
demo-debian: deps guest
	@$(PY) lab/check.py --debian --debian-line $(if $(filter 6.1,$(LINE)),6.1,6.12) \
		$(if $(DKMS),--dkms) --profile $(if $(filter file,$(origin PROFILE)),full,$(PROFILE))
onhost-vmtest: debian-kernel
	@SASSCAN_LINE=6.12 lab/onhost-vmtest.sh

clean:
	rm -rf out

# Regenerate patches/ from a branch of a 7.3 git tree under the submitter's
# identity (AUTHOR, refused if missing or a placeholder), with the cover
# letter and To/Cc from get_maintainer.pl (lab/format-series.sh).
series:
	@lab/format-series.sh $(BRANCH)
