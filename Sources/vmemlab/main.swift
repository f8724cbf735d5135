import VMemLabCommands

await VMemLab.main()
