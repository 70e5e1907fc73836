/* dopt.c -- placeholder until the module lands. */
