/* flow.c -- placeholder until the module lands. */
