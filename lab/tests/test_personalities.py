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


if __name__ == "__main__":
    unittest.main()
