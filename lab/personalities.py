"""The lab's one table of vsas personalities.

Every fact the lab's Python uses about a personality lives here: the matrix,
the reliability suite and the benchmark read it and repeat nothing.
The kernel side is vsas/vsas_personality.c; check_against() compares this
table with what a running vsas reports (see docs/vsas.md, "Adding a
personality").
"""
from dataclasses import dataclass

U32_MAX = 2**32 - 1       # ~0U
U64_MAX = 2**64 - 1       # ~0ULL


@dataclass(frozen=True)
class Personality:
    """One row of the lab (a vsas personality, possibly with overrides)."""
    row: str                    # the lab's name for the row
    pers: str                   # vsas personality (configfs "personality")
    topo: str                   # lab topology, vsas syntax with commas
    channels: tuple             # channels the driver puts devices on
    max_channel: int            # vsas/driver default on a stock kernel
    max_id: int
    max_lun: int                # the real driver's (docs/vsas.md)
    libsas: bool = False        # sas_domain_attach_transport() driver
    # max_channel once the kernel has ->user_scan_targets() (fix series)
    max_channel_series: int = None
    set: str = ""               # per-host configfs overrides "attr=v;..."
    extra_channels: tuple = ()  # channels the matrix also requests, unused
    override_of: str = None     # an older driver version of another row
    # matrix: rescan-scsi-bus.sh runs on this row in these profiles
    clients: tuple = ()
    # matrix, reduced profile: baselines that run this row (their requests
    # are matrix.REDUCED_REQUESTS)
    reduced_baselines: tuple = ()
    rmmod: bool = False         # reliability: module-removal cells

    @property
    def pclass(self):
        return "libsas" if self.libsas else "transport"


P = Personality
REGISTRY = [
    P("plain", "plain", "0,0,0e", (0,), 0, 16, 8, rmmod=True),
    P("smartpqi", "smartpqi", "0,0,1:0,1:1,2:0,3:0", (0, 1, 2, 3), 3, U32_MAX, 256,
      clients=("full", "reduced"), reduced_baselines=("multichannel", "scanstart"),
      rmmod=True),
    P("hpsa", "hpsa", "0,0,1:0,1:1,2:0,3:0", (0, 1, 2, 3), 3, 1024, 1024),
    P("mpt3sas", "mpt3sas", "0,0,0e,1:0,2:0", (0, 1, 2), 0, U32_MAX, 16895,
      max_channel_series=2, clients=("full",),
      reduced_baselines=("multichannel", "scanstart"), rmmod=True),
    P("mpi3mr", "mpi3mr", "0,0,1:0,1:1", (0, 1), 1, 1024, U64_MAX,
      reduced_baselines=("multichannel",)),
    P("hisi_sas", "hisi_sas", "0,0", (0,), 0, 1024, U64_MAX, libsas=True,
      reduced_baselines=("scanstart",), rmmod=True),
    # hisi_sas before 8ddc0c269165 ("hisi_sas: Fix NULL pointer exception ...")
    P("hisi_sas_mc1", "hisi_sas", "0,0", (0,), 0, 1024, U64_MAX, libsas=True,
      set="max_channel=1", extra_channels=(1,), override_of="hisi_sas",
      reduced_baselines=("multichannel",)),
    P("aic94xx", "aic94xx", "0,0", (0,), 0, U32_MAX, U64_MAX, libsas=True),
    P("isci", "isci", "0,0", (0,), 0, U32_MAX, U64_MAX, libsas=True,
      reduced_baselines=("scanstart",)),
    P("mvsas", "mvsas", "0,0", (0,), 1, 1024, U64_MAX, libsas=True, extra_channels=(1,)),
    P("pm8001", "pm8001", "0,0", (0,), 0, 2048, 8, libsas=True,
      reduced_baselines=("scanstart",)),
]
del P

BY_ROW = {p.row: p for p in REGISTRY}


def rows():
    """Every row, in the reports' order."""
    return [p.row for p in REGISTRY]


def base_rows():
    """The rows that are a vsas personality as shipped (no override rows):
    the benchmark and the reliability suite run these."""
    return [p.row for p in REGISTRY if not p.override_of]


def get(row):
    return BY_ROW[row]


def topo_channels(topo):
    """The channels a lab topology puts devices on."""
    chans = set()
    for dev in topo.split(","):
        dev = dev.split("/")[0]
        chans.add(int(dev.split(":")[0]) if ":" in dev else 0)
    return sorted(chans)


def self_check(registry=None):
    """Problems within the table itself ([] when consistent)."""
    problems = []
    reg = REGISTRY if registry is None else registry
    names = [p.row for p in reg]
    for p in reg:
        if names.count(p.row) > 1:
            problems.append("%s: row listed twice" % p.row)
        if topo_channels(p.topo) != list(p.channels):
            problems.append("%s: topology %s uses channels %s, registry says %s" % (
                p.row, p.topo, topo_channels(p.topo), list(p.channels)))
        if p.channels[0] != 0:
            problems.append("%s: channel 0 (the rphys) missing" % p.row)
        if p.override_of and (p.override_of not in names or not p.set):
            problems.append("%s: override of %s without a known row or overrides" % (
                p.row, p.override_of))
    return problems


# What the guest prints (one "VSAS-PERSONALITIES {json}" line):
#   {"personalities": ["plain", ...],          configfs vsas/personalities
#    "user_scan_targets": 0|1,                  optional: fix series built in
#    "hosts": {"plain": {"max_channel": 0, "max_id": 16, "max_lun": 8}, ...}}
# "hosts" holds, per personality, the configfs attributes of a host just
# given that personality (mkdir, write personality, read them, rmdir).
# Optional per host: "proc_name" (the Scsi_Host's, once enabled) and
# "libsas" (0/1, where the guest can tell); absent keys are not compared.
LIMITS = ("max_channel", "max_id", "max_lun")


def expected(p, user_scan_targets=False):
    """The limits vsas should report for row @p."""
    mc = p.max_channel
    if user_scan_targets and p.max_channel_series is not None:
        mc = p.max_channel_series
    return dict(max_channel=mc, max_id=p.max_id, max_lun=p.max_lun)


def compare(registry, report):
    """Pure: [problem] between @registry (Personality list) and a vsas
    @report (the dict above); [] when they agree."""
    problems = []
    base = {p.pers: p for p in registry if not p.override_of}
    listed = report.get("personalities")
    if listed is not None:
        for name in sorted(set(listed) - set(base)):
            problems.append("vsas has personality %s, the lab registry does not" % name)
        for name in sorted(set(base) - set(listed)):
            problems.append("the lab registry has %s, vsas does not" % name)
    ust = bool(report.get("user_scan_targets"))
    hosts = report.get("hosts", {})
    for name, p in base.items():
        got = hosts.get(name)
        if got is None:
            continue
        want = expected(p, ust)
        for k in LIMITS:
            if k in got and int(got[k]) != want[k]:
                problems.append("%s: vsas %s %s, registry %s" % (name, k, got[k], want[k]))
        if "libsas" in got and bool(int(got["libsas"])) != p.libsas:
            problems.append("%s: vsas libsas %s, registry %s" % (name, got["libsas"], p.libsas))
        if "proc_name" in got and got["proc_name"] != "vsas_" + name:
            problems.append("%s: vsas proc_name %s, expected vsas_%s" % (
                name, got["proc_name"], name))
    return problems


def check_against(report):
    """The registry against a vsas report; [problem], [] when they agree."""
    return self_check() + compare(REGISTRY, report)


def check_tests():
    """[(test name, ok, why)]: compare() on made-up vsas reports (no boot)."""
    reg = [Personality("a", "a", "0,1:0", (0, 1), 1, 16, 8, max_channel_series=2),
           Personality("a_old", "a", "0,1:0", (0, 1), 1, 16, 8, set="max_channel=0",
                       override_of="a"),
           Personality("b", "b", "0", (0,), 0, U32_MAX, U64_MAX, libsas=True)]
    good = {"personalities": ["a", "b"],
            "hosts": {"a": {"max_channel": 1, "max_id": 16, "max_lun": 8},
                      "b": {"max_channel": 0, "max_id": U32_MAX, "max_lun": U64_MAX}}}
    series = dict(good, user_scan_targets=1, hosts=dict(good["hosts"], a=dict(
        good["hosts"]["a"], max_channel=2)))
    bad = {"personalities": ["a", "c"], "hosts": {"a": {"max_channel": 3, "max_id": "16"}}}
    got = compare(reg, bad)
    want = ["vsas has personality c, the lab registry does not",
            "the lab registry has b, vsas does not", "a: vsas max_channel 3, registry 1"]
    return [("personalities/agree", compare(reg, good) == [], str(compare(reg, good))),
            ("personalities/series_limits", compare(reg, series) == [], str(compare(reg, series))),
            ("personalities/disagree", got == want, str(got)),
            ("personalities/registry_consistent", self_check() == [], str(self_check()))]
