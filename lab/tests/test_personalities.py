"""The personality registry: consistent in itself, and compare() against
made-up vsas reports (personalities.check_tests()); the boot-time comparison
with the running vsas is vsas/registry_matches_vsas in make check."""
import unittest

import labtest  # noqa: F401  (puts lab/ on the import path)

import personalities


class RegistryTests(unittest.TestCase):
    def test_check_tests_pass(self):
        tests = personalities.check_tests()
        self.assertTrue(tests)
        for name, ok, why in tests:
            with self.subTest(name=name):
                self.assertTrue(ok, why)

    def test_forgets_deleted(self):
        # smartpqi only (pqi_slave_destroy() forgets; no hook in the series)
        self.assertEqual([p.row for p in personalities.REGISTRY if p.forgets_deleted],
                         ["smartpqi"])
        bad = [personalities.Personality("f", "f", "0,1:0", (0, 1), 1, 16, 8,
                                         forgets_deleted=True)]
        self.assertEqual(len(personalities.self_check(bad)), 1, personalities.self_check(bad))


if __name__ == "__main__":
    unittest.main()
