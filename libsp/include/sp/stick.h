/* sp/stick.h -- placeholder. */
