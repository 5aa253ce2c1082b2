# The default guest: a shell on the console. `poweroff` ends the run.
echo "sluice guest: busybox shell; 'poweroff' ends the run"
setsid cttyhack sh -l
