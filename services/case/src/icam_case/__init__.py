"""ICAM case service: the trajectory of a person or household, from first contact to closure."""
