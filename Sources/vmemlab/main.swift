import VMemLabCommands

VMemLab.main()
