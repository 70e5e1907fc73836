/* siphash.c -- placeholder until the module lands. */
