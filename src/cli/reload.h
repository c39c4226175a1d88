/* reload: `pullgate reload -c FILE` — checks the file, then asks each running
 * role that FILE configures to reload it, through that role's admin
 * listener, and prints what it answered. */
#ifndef PULLGATE_CLI_RELOAD_H
#define PULLGATE_CLI_RELOAD_H

int reload_main(int argc, char **argv);

#endif
