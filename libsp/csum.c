/* csum.c -- placeholder until the module lands. */
