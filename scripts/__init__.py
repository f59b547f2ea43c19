"""Developer scripts; a package so that the tests can import the checkpoint converter."""
