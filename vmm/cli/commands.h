/* sluice: the subcommands main.c dispatches to. Each returns an exit status. */
#ifndef SLUICE_COMMANDS_H
#define SLUICE_COMMANDS_H

int cmd_run(int argc, char **argv);
int cmd_devices(int argc, char **argv);
int cmd_release(int argc, char **argv);
int cmd_vf(int argc, char **argv);
int cmd_driver_vm(int argc, char **argv);

#endif
