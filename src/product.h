/*
 * product.h
 *		The product's name and version, shared by every module.
 */
#ifndef PG_DASH_PRODUCT_H
#define PG_DASH_PRODUCT_H

#define PG_DASH_VERSION "0.2.0"

/* The name under which every module reports itself in logs and errors. */
#define PG_DASH_NAME "pg_dash"

#endif							/* PG_DASH_PRODUCT_H */
