from tinhso.manage import main

main()
