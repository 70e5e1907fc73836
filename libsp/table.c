/* table.c -- placeholder until the module lands. */
