from hongfeng.cli import main

main()
