/* cache.c -- placeholder until the module lands. */
