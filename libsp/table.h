/* table.h -- placeholder. */
