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
    # lab topology, vsas syntax with commas: "0" an rphy, "0e" one behind
    # the expander, "C:I" target (C, I) at LUN 0, "C:I:L" a volume at LUN L
    # of target (C, I) ("0:I:L": hpsa's controller on bus 0, not an rphy);
    # "/N" N LUNs. Each row's is its driver's real layout (docs/vsas.md,
    # "Addressing").
    topo: str
    channels: tuple             # channels the driver puts devices on
    max_channel: int            # vsas/driver default (the fix series keeps it)
    max_id: int
    max_lun: int                # the real driver's (docs/vsas.md)
    libsas: bool = False        # sas_domain_attach_transport() driver
    set: str = ""               # per-host configfs overrides "attr=v;..."
    # channels whose targets hold several volumes, one LUN each, that the
    # driver adds one by one with scsi_add_device() (smartpqi, hpsa bus 1):
    # the matrix's volume cells delete LUN 0 / a LUN > 0 / all of them there
    volumes: tuple = ()
    # matrix volume cells on rows without shared targets: delete every
    # device on channels >= 1 (mpt3sas, mpi3mr)
    volume_cells: bool = False
    # driver_state values in which the driver exposes nothing new
    # (->user_scan_devices() returns -EBUSY): the matrix's state cells
    busy_states: tuple = ()
    extra_channels: tuple = ()  # channels the matrix also requests, unused
    # a variant of another row (an older driver version, another controller
    # configuration): the bench and the reliability suite run only base rows
    override_of: str = None
    # matrix: rescan-scsi-bus.sh runs on this row in these profiles
    clients: tuple = ()
    # matrix, reduced profile: baselines that run this row (their requests
    # are matrix.REDUCED_REQUESTS)
    reduced_baselines: tuple = ()
    rmmod: bool = False         # reliability: module-removal cells
    # the driver forgets a device whose scsi_device a user deletes and has
    # no ->user_scan_devices() hook; its "rescan" host attribute (its own
    # scan) adds the device again (smartpqi: pqi_slave_destroy(),
    # docs/design.md "smartpqi — no hook"): the matrix expects a user scan
    # to find what the driver lists and adds rescan-attribute cells
    forgets_deleted: bool = False
    # the driver adds LUN 0 only on its channels >= 1 (mpt3sas:
    # scsi_add_device(shost, RAID_CHANNEL or PCIE_CHANNEL, id, 0))
    lun0_only: bool = False
    # runtime PM as hisi_sas v3 does it: the controller ignores its
    # children, each disk holds it through a device link (vsas rpm_links)
    rpm_links: bool = False
    # driver channels whose targets the driver adds whole with
    # scsi_scan_target(..., SCAN_WILD_CARD) (mpi3mr); on its other channels
    # >= 1 it adds each LUN with scsi_add_device() (vsas add_method)
    whole_target_channels: tuple = ()
    # matrix, reduced profile: scenarios it keeps for this row beyond the
    # common ones (what the row exists to show)
    reduced_extra: tuple = ()

    @property
    def pclass(self):
        return "libsas" if self.libsas else "transport"


P = Personality
REGISTRY = [
    P("plain", "plain", "0,0,0e", (0,), 0, 16, 8, rmmod=True),
    # smartpqi pqi_assign_bus_target_lun(): local volumes (1, 0, lunid &
    # 0x3fff), the controller (2, 0, 0), external volumes (3, (lunid >> 16)
    # & 0x3fff, lunid & 0xff)
    P("smartpqi", "smartpqi", "0,0,1:0:0,1:0:1,1:0:2,2:0:0,3:0:0", (0, 1, 2, 3), 3,
      U32_MAX, 256, volumes=(1,), busy_states=("reset", "discovery"),
      clients=("full", "reduced"), reduced_baselines=("multichannel", "scanstart"),
      rmmod=True, forgets_deleted=True),
    # hpsa figure_bus_target_lun(): local volumes (1, 0, lunid & 0x3fff),
    # external volumes (2, (lunid >> 16) & 0x3fff, lunid & 0xff), the
    # controller on bus 3 when rev is 0 (legacy; rev > 0 puts it on bus 0)
    P("hpsa", "hpsa", "0,0,1:0:0,1:0:1,1:0:2,2:0:0,3:0:0", (0, 1, 2, 3), 3, 1024, 1024,
      volumes=(1,), busy_states=("reset", "discovery")),
    # hpsa with a controller whose INQUIRY version is neither 0 nor 5: the
    # controller at (0, 0, lunid & 0x3fff), added with scsi_add_device(),
    # not an rphy. Physical drives masked (RAID mode): an exposed one would
    # be an rphy with target id 0 as well, which real hpsa cannot register.
    P("hpsa_ctrl0", "hpsa", "1:0:0,1:0:1,1:0:2,2:0:0,0:0:0", (0, 1, 2), 3, 1024, 1024,
      volumes=(1,), busy_states=("reset", "discovery"), extra_channels=(3,),
      override_of="hpsa", reduced_extra=("delete ch0, - - -",)),
    # mpt3sas: RAID volumes (RAID_CHANNEL 1, id, 0), NVMe (PCIE_CHANNEL 2, id, 0)
    P("mpt3sas", "mpt3sas", "0,0,0e,1:0:0,2:0:0", (0, 1, 2), 0, U32_MAX, 16895, lun0_only=True,
      volume_cells=True, busy_states=("reset", "discovery"), clients=("full",),
      reduced_baselines=("multichannel", "scanstart"), rmmod=True),
    # mpi3mr: non-transport targets scanned whole (scsi_device_channel 1,
    # perst_id, SCAN_WILD_CARD); an NVMe target with two namespaces (LUNs)
    P("mpi3mr", "mpi3mr", "0,0,1:0,1:1/2", (0, 1), 1, 1024, U64_MAX,
      volume_cells=True, busy_states=("reset",), whole_target_channels=(1,),
      reduced_baselines=("multichannel",)),
    P("hisi_sas", "hisi_sas", "0,0", (0,), 0, 1024, U64_MAX, libsas=True,
      reduced_baselines=("scanstart",), rmmod=True, rpm_links=True),
    # hisi_sas before 8ddc0c269165 ("hisi_sas: Fix NULL pointer exception ...")
    P("hisi_sas_mc1", "hisi_sas", "0,0", (0,), 0, 1024, U64_MAX, libsas=True,
      set="max_channel=1", extra_channels=(1,), override_of="hisi_sas",
      reduced_baselines=("multichannel",), rpm_links=True),
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


def topo_devices(topo):
    """[(channel, id, lun)] of a lab topology's devices, one entry per LUN;
    rphys as (0, None, lun), hpsa's bus-0 controller as (0, id, lun)."""
    out = []
    for dev in topo.split(","):
        dev, _, n = dev.partition("/")
        nluns = int(n) if n else 1
        parts = dev.rstrip("e").split(":")
        ch = int(parts[0])
        tid = int(parts[1]) if len(parts) > 1 else None
        first = int(parts[2]) if len(parts) > 2 else 0
        out += [(ch, tid, first + i) for i in range(nluns)]
    return out


def whole_targets(row, topo):
    """How many targets of @topo a complete user scan reads whole (REPORT
    LUNS): every rphy (one per channel-0 entry), and each target on one of
    the row's whole_target_channels. The LUNs a driver adds one by one
    (scsi_add_device()) are probed at their own address only."""
    p = get(row)
    whole = set()
    for i, dev in enumerate(topo.split(",")):
        ch, tid, _ = topo_devices(dev)[0]
        if ch == 0 and tid is None:
            whole.add(("rphy", i))
        elif ch in p.whole_target_channels:
            whole.add((ch, tid))
    return len(whole)


def topo_channels(topo):
    """The channels a lab topology puts devices on."""
    return sorted({d[0] for d in topo_devices(topo)})


STATES = ("ok", "reset", "discovery", "removing")   # vsas configfs driver_state


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
        base = BY_ROW.get(p.override_of) if p.override_of else None
        if p.override_of and (p.override_of not in names or
                              (not p.set and base is not None and base.topo == p.topo)):
            problems.append("%s: variant of %s without a known row or a difference" % (
                p.row, p.override_of))
        devs = topo_devices(p.topo)
        addrs = [d for d in devs if d[0]]
        if len(set(addrs)) != len(addrs):
            problems.append("%s: topology %s puts two devices at one address" % (p.row, p.topo))
        for c in p.volumes:
            luns = {d[2] for d in addrs if d[0] == c and d[1] == 0}
            if 0 not in luns or len(luns) < 2:
                problems.append("%s: volume channel %d needs target 0 with LUN 0 and a LUN > 0"
                                " (topology %s)" % (p.row, c, p.topo))
        if (p.volumes or p.volume_cells) and p.libsas:
            problems.append("%s: libsas rows have no driver channels for volume cells" % p.row)
        for st in p.busy_states:
            if st not in STATES or st == "ok":
                problems.append("%s: unknown busy driver_state %s" % (p.row, st))
        for c in p.whole_target_channels:
            if c == 0 or c not in p.channels or c in p.volumes:
                problems.append("%s: whole-target channel %d must be a driver channel "
                                "without per-LUN volumes" % (p.row, c))
        if p.forgets_deleted and (p.libsas or not p.volumes):
            problems.append("%s: forgets_deleted needs volumes on a driver channel" % p.row)
    return problems


# What the guest prints (one "VSAS-PERSONALITIES {json}" line):
#   {"personalities": ["plain", ...],          configfs vsas/personalities
#    "user_scan_devices": 0|1,                  optional: the kernel has the fix
#                                               series' ->user_scan_devices()
#    "vsas_user_scan_devices": 0|1,             optional: vsas was built with it
#    "hosts": {"plain": {"max_channel": 0, "max_id": 16, "max_lun": 8}, ...}}
# "hosts" holds, per personality, the configfs attributes of a host just
# given that personality (mkdir, write personality, read them, rmdir).
# Optional per host: "proc_name" (the Scsi_Host's, once enabled) and
# "libsas" (0/1, where the guest can tell); absent keys are not compared.
LIMITS = ("max_channel", "max_id", "max_lun")


def expected(p):
    """The limits vsas should report for row @p (the same on every kernel:
    the fix series changes no driver's limits)."""
    return dict(max_channel=p.max_channel, max_id=p.max_id, max_lun=p.max_lun)


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
    if ("user_scan_devices" in report and "vsas_user_scan_devices" in report and
            bool(report["user_scan_devices"]) != bool(report["vsas_user_scan_devices"])):
        problems.append("kernel has user_scan_devices %d, vsas was built with it %d "
                        "(vsas built against other headers)" % (
                            report["user_scan_devices"], report["vsas_user_scan_devices"]))
    hosts = report.get("hosts", {})
    for name, p in base.items():
        got = hosts.get(name)
        if got is None:
            continue
        want = expected(p)
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
    reg = [Personality("a", "a", "0,1:0", (0, 1), 1, 16, 8),
           Personality("a_old", "a", "0,1:0", (0, 1), 1, 16, 8, set="max_channel=0",
                       override_of="a"),
           Personality("b", "b", "0", (0,), 0, U32_MAX, U64_MAX, libsas=True)]
    good = {"personalities": ["a", "b"],
            "hosts": {"a": {"max_channel": 1, "max_id": 16, "max_lun": 8},
                      "b": {"max_channel": 0, "max_id": U32_MAX, "max_lun": U64_MAX}}}
    series = dict(good, user_scan_devices=1, vsas_user_scan_devices=1)
    mixed = dict(good, user_scan_devices=1, vsas_user_scan_devices=0)
    bad = {"personalities": ["a", "c"], "hosts": {"a": {"max_channel": 3, "max_id": "16"}}}
    # a volume channel without LUN 0, two devices at one address, a bad state
    bad_vol = [Personality("v", "v", "0,1:0:1,1:0:1", (0, 1), 1, 16, 8, volumes=(1,),
                           busy_states=("sleepy",))]
    got = compare(reg, bad)
    want = ["vsas has personality c, the lab registry does not",
            "the lab registry has b, vsas does not", "a: vsas max_channel 3, registry 1"]
    return [("personalities/agree", compare(reg, good) == [], str(compare(reg, good))),
            ("personalities/series_limits", compare(reg, series) == [], str(compare(reg, series))),
            ("personalities/disagree", got == want, str(got)),
            ("personalities/vsas_without_hook", len(compare(reg, mixed)) == 1,
             str(compare(reg, mixed))),
            ("personalities/registry_consistent", self_check() == [], str(self_check())),
            ("personalities/self_check_volumes", len(self_check(bad_vol)) == 3,
             str(self_check(bad_vol))),
            ("personalities/topo_devices",
             topo_devices("0,0e,1:0:0,1:0:3/2,2:4") == [
                 (0, None, 0), (0, None, 0), (1, 0, 0), (1, 0, 3), (1, 0, 4), (2, 4, 0)],
             str(topo_devices("0,0e,1:0:0,1:0:3/2,2:4")))]
