//! Unit tests of each mapping, with the Connection side played by hand.
