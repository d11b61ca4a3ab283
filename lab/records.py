"""Typed records of the lab: a boot's case results, the cells the suites
hand the guest, and the judged rows of the matrix and the reliability suite.

Rows also answer row["key"], row.get() and "key" in row, so code (and JSON
files read back as dicts) can treat both alike; to_dict() gives the JSON form
with the fields in declaration order.
"""
from dataclasses import dataclass, field, fields


class Record:
    """Mapping-style access on top of a dataclass."""

    def __getitem__(self, key):
        try:
            return getattr(self, key)
        except AttributeError:
            raise KeyError(key) from None

    def __setitem__(self, key, value):
        setattr(self, key, value)

    def __contains__(self, key):
        return hasattr(self, key)

    def get(self, key, default=None):
        return getattr(self, key, default)

    def keys(self):
        return [f.name for f in fields(self)]

    def to_dict(self):
        return {k: getattr(self, k) for k in self.keys()}


def jsonable(obj):
    """json.dump(default=...): Records as their dicts."""
    if isinstance(obj, Record):
        return obj.to_dict()
    raise TypeError("not JSON serialisable: %r" % type(obj))


@dataclass
class CaseResult(Record):
    """One guest case (or a failure the runner adds) of a judged boot."""
    number: int
    name: str
    guest_ok: bool = False      # the guest's own TAP verdict
    skip: bool = False
    xfail: bool = False         # "ok N name # XFAIL why": failed as the host expected
    why: list = field(default_factory=list)
    diag: list = field(default_factory=list)
    subtests: dict = field(default_factory=dict)
    splats: list = field(default_factory=list)
    ok: bool = False            # the verdict: guest_ok and no kernel splat


@dataclass
class Cell(Record):
    """A matrix or reliability cell as handed to the guest (one line)."""
    id: str
    row: str
    kind: str
    line: str
    budget: int = 30            # VM seconds the cell may take
    request: str = ""           # matrix: the scenario's name
    k: int = 0                  # reliability: writers


@dataclass
class BenchCell(Record):
    """A benchmark cell: one personality and size on one variant."""
    id: str
    variant: str
    pers: str
    devices: int
    capped: bool = False        # vsas or the driver cannot build it
    topo: str = None
    targets: int = None
    runs: list = field(default_factory=list)
    reps: int = 0
    kreps: int = 0
    k: int = 0


@dataclass
class MatrixRow(Record):
    """A judged matrix cell; the figures are copies of the record's."""
    variant: str
    personality: str
    request: str
    source: str = None
    source_version: str = None
    series: str = None
    expected_devices: int = None
    found_devices: int = None
    absent_probes: int = None
    rphyless_target_allocs: int = None
    phy_resets: int = None
    io_errors: int = None
    corrupt_blocks: int = None
    concurrent_scan_start_max: int = None
    write_rc: int = None
    elapsed_ms: int = None
    splats: list = field(default_factory=list)      # kinds
    verdict: str = None
    why: str = ""
    key: str = ""
    record: dict = field(default_factory=dict)

    # the fields copied from the guest's record as they are
    FIGURES = ("expected_devices", "found_devices", "absent_probes",
               "rphyless_target_allocs", "phy_resets", "io_errors", "corrupt_blocks",
               "concurrent_scan_start_max", "write_rc", "elapsed_ms")
    BUILD = ("source", "source_version", "series")

    @classmethod
    def of(cls, variant, cell, info, rec, verdict, why, key):
        return cls(variant=variant, personality=cell.row, request=cell.request,
                   **{k: info.get(k) for k in cls.BUILD},
                   **{k: rec.get(k) for k in cls.FIGURES},
                   splats=[s["kind"] for s in rec.get("splats", [])],
                   verdict=verdict, why=why, key=key, record=rec)


@dataclass
class ReliabilityRow(Record):
    """A reliability cell with its record, failure figures and verdict."""
    variant: str
    personality: str
    kind: str
    k: int
    cell: str
    source: str = None
    source_version: str = None
    series: str = None
    record: dict = field(default_factory=dict)
    failures: dict = field(default_factory=dict)
    verdict: str = None

    @classmethod
    def of(cls, variant, cell, info, rec):
        return cls(variant=variant, personality=cell.row, kind=cell.kind, k=cell.k,
                   cell=cell.id, **{k: info.get(k) for k in MatrixRow.BUILD}, record=rec)
