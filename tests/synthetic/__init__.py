"""Tests of hotmess.synthetic."""
