"""Circulation types and operations: basket, holds and loans."""
